"""Builds the working parts of a running Meeting Buddy from its settings: the store, the
session manager and the runner factory behind each session (the bot and recorder pipeline).

The GUI, `serve`, `demo` and `join` all start from here, so a session behaves the same
whichever way it was started.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.instance import InstanceLock
from app.paths import data_root
from app.sessions import RunnerFactory, SessionManager
from app.settings import Settings, load_settings
from app.store import Store


def pipeline_config(settings: Settings):
    from recorder.pipeline import PipelineConfig

    return PipelineConfig(
        segment_seconds=settings.segment_seconds, language=settings.language,
        model=settings.model, device=settings.device, compute_type=settings.compute_type,
        screen_capture=settings.screen_capture, screen_fps=settings.screen_fps,
        screen_max_size=(settings.screen_max_width, settings.screen_max_height))


def leave_timers(settings: Settings):
    from recorder.bot.bot import LeaveTimers

    t = settings.timers
    return LeaveTimers(waiting_room=t.waiting_room_s, no_one_joined=t.no_one_joined_s,
                       everyone_left=t.everyone_left_s, silence=t.silence_s,
                       silence_warmup=t.silence_warmup_s, max_duration=t.max_duration_s)


def build_runner_factory(settings: Settings, *,
                         trusted_cert_hosts: frozenset[str] = frozenset()) -> RunnerFactory:
    """Sessions run a bot. `trusted_cert_hosts` is set only by the simulator's demo/test mode."""
    from recorder.bot_session import BotSessionOptions, BotSessionRunner

    options = BotSessionOptions(pipeline=pipeline_config(settings), timers=leave_timers(settings),
                                trusted_cert_hosts=trusted_cert_hosts)
    return lambda session, link: BotSessionRunner(session, link, options)


@dataclass
class Core:
    settings: Settings
    store: Store
    manager: SessionManager
    lock: InstanceLock
    root: Path = field(default_factory=data_root)

    def close(self) -> None:
        self.store.close()
        self.lock.release()


def data_folder(settings: Settings) -> Path:
    """The data folder these settings use (the platform default unless one is chosen)."""
    return Path(settings.data_dir).expanduser().resolve() if settings.data_dir else data_root()


def build_core(settings: Settings | None = None, *, runner_factory: RunnerFactory | None = None,
               with_bot: bool = True, trusted_cert_hosts: frozenset[str] = frozenset()) -> Core:
    settings = settings or load_settings()
    root = data_folder(settings)
    store = Store(root)
    lock = InstanceLock(root)
    owner = lock.acquire()
    if runner_factory is None and with_bot:
        runner_factory = build_runner_factory(settings, trusted_cert_hosts=trusted_cert_hosts)
    manager = SessionManager(store, runner_factory=runner_factory, recover=owner)
    return Core(settings, store, manager, lock, root)
