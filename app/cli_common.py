"""What the command-line modules share: exit codes, the one-line error, JSON output, files
written for the user, the core opened from the settings, and the Qt loop the bot needs."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from app.composition import Core, build_core
from app.settings import Settings, load_settings

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
T = TypeVar("T")


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = code


def share_progress_bar(desc: str) -> tuple[Callable[[float], None], Callable[[], None]]:
    """A progress bar of a share done (0 to 1) on stderr when it is a terminal; otherwise
    nothing is drawn. Returns (update, close)."""
    if not sys.stderr.isatty():
        return (lambda share: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=100, unit="%", desc=desc, file=sys.stderr,
               bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")

    def update(share: float) -> None:
        bar.update(max(0, round(share * 100) - bar.n))

    return update, bar.close


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def write_output(data: bytes, output: str | None, default_name: str) -> None:
    """Write `data` to `output` (a file, a folder, or '-' for stdout); prints the path."""
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = Path(output) if output else Path.cwd() / default_name
    if target.is_dir():
        target = target / default_name
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror}") from exc
    print(str(target))


def open_core(*, own: bool, settings: Settings | None = None, **kw: Any) -> Core:
    """The data folder of the user's settings, through the composition root."""
    return build_core(settings or load_settings(), own=own, **kw)


@contextmanager
def qt_runtime(*, headless: bool, host_resolver_rules: str | None = None) -> Iterator[asyncio.AbstractEventLoop]:
    """A Qt application with qasync driving asyncio, as the bot needs: a display (Xvfb when
    `headless` and none exists), QtWebEngine prepared, the event loop installed."""
    from recorder.bot.chromium import prepare_qtwebengine_environment
    from recorder.headless import HeadlessError, HeadlessServices, default_state_dir

    services = None
    if headless and not os.environ.get("DISPLAY"):
        services = HeadlessServices(default_state_dir() / f"run-{os.getpid()}")
        try:
            services.start_display()
        except HeadlessError as exc:
            raise CliError(str(exc)) from exc
    try:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            raise CliError("no display: run with --headless (uses Xvfb) or from a desktop session")
        prepare_qtwebengine_environment(host_resolver_rules)

        import qasync
        from PySide6.QtWidgets import QApplication

        from app.qt_workarounds import keep_singletons_alive

        keep_singletons_alive()
        app = QApplication.instance() or QApplication([sys.argv[0]])
        loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            yield loop
    finally:
        if services is not None:
            services.stop()


def run_until_signalled(loop: asyncio.AbstractEventLoop,
                        main: Callable[[asyncio.Event], Awaitable[T]]) -> T:
    """Runs `main(stop)` to its end; Ctrl+C or SIGTERM sets `stop` so it can finish cleanly
    (a bot leaves its meeting, pending transcription is saved)."""
    stop = asyncio.Event()

    def handler(*_: object) -> None:
        loop.call_soon_threadsafe(stop.set)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return loop.run_until_complete(main(stop))
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
