"""The composition root: the one place that turns settings into the working parts of a
running Meeting Buddy — the data folder, its lock, the store, the session manager and the
runner factory behind each bot session.

Every entry point (the window, `join`, `demo`, `record`, `sessions`, `serve`, `sync`,
`remote`) builds its core here, so all of them use the same data folder (the one chosen in
Settings, else the platform default) and a session behaves the same whichever way it was
started.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from app.folder_lock import DataFolderLock
from app.notes.backends import NotesOptions
from app.paths import data_root
from app.refine import RefineOptions
from app.sessions import RunnerFactory, SessionManager
from app.settings import Settings, load_settings
from app.store import Store


def data_folder(settings: Settings) -> Path:
    """The data folder these settings use (the platform default unless one is chosen)."""
    return Path(settings.data_dir).expanduser().resolve() if settings.data_dir else data_root()


def bot_runner_factory(settings: Settings, *,
                       trusted_certificates: frozenset[str] = frozenset()) -> RunnerFactory:
    """Sessions that send the meeting bot. `trusted_certificates` (SHA-256 fingerprints) is
    set only by the simulator's demo/test mode."""
    from app.runners.bot_session import BotSessionOptions, BotSessionRunner, leave_timers
    from app.runners.common import pipeline_config

    options = BotSessionOptions(pipeline=pipeline_config(settings), timers=leave_timers(settings),
                                unexplained_after=settings.timers.unexplained_screen_s,
                                trusted_certificates=trusted_certificates)
    return lambda session, link: BotSessionRunner(session, link, options)


@dataclass
class Core:
    settings: Settings
    root: Path
    store: Store
    manager: SessionManager
    lock: DataFolderLock

    @property
    def owner(self) -> bool:
        """Whether this process owns the data folder (may run and recover sessions)."""
        return self.lock.held

    def close(self) -> None:
        self.store.close()
        self.lock.release()

    def __enter__(self) -> Core:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def build_core(settings: Settings | None = None, *, own: bool,
               runner_factory: RunnerFactory | None = None) -> Core:
    """Open the data folder these settings name.

    `own=True` tries to take the data folder's lock (`core.owner` says whether it did): only
    the owner runs sessions, and only the owner marks sessions that a crash left running as
    failed/INTERRUPTED — a second process reading the folder must never declare the running
    app's sessions dead. `own=False` opens it for reading and for imports.
    """
    settings = settings or load_settings()
    root = data_folder(settings)
    store = Store(root)
    lock = DataFolderLock(root)
    if own:
        lock.acquire()
    manager = SessionManager(store, runner_factory=runner_factory)
    manager.refiner.options = RefineOptions.from_settings(settings)
    manager.notetaker.options = NotesOptions.from_settings(settings)
    if lock.held:
        manager.recover_interrupted()
    return Core(settings, root, store, manager, lock)
