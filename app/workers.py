"""Blocking work (model loading, file finalizing, exports) run off the event loop.

Plain Python threads on purpose: under qasync the loop's default executor runs QThreads,
and a QThread still alive when the application exits aborts the process.
"""
from __future__ import annotations

import asyncio
import functools
import gc
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="meeting-buddy-work")


async def off_loop(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(
        _POOL, functools.partial(func, *args, **kwargs))


def in_background(func: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
    """The same threads for code with no event loop at hand (a dialog's long job): the caller
    follows the future, e.g. with a Qt signal from its done callback."""
    return _POOL.submit(func, *args, **kwargs)


def settle_heap() -> None:
    """Takes what is alive now (the window, a loaded model) out of the garbage collector's
    full passes, which walk every tracked object holding the interpreter lock while the
    window waits for it: a pass that took 60 ms with a model loaded takes a few without."""
    gc.collect()
    gc.freeze()


class LockBreaks:
    """Pauses for a CPU-bound job off the GUI thread that lets go of the interpreter lock in
    many brief calls (lxml's, building a DOCX). CPython gives the lock to a waiting thread only
    once it has waited a whole switch interval (5 ms) with no release in between, and each
    brief release restarts that wait: such a job can keep the window's thread out for 100 ms
    and more. Called between steps, this sleeps a moment every `every_s` of work, which lets
    the window in."""

    def __init__(self, every_s: float = 0.004, pause_s: float = 0.0005) -> None:
        self.every_s, self.pause_s = every_s, pause_s
        self._since = time.perf_counter()

    def __call__(self) -> None:
        if time.perf_counter() - self._since >= self.every_s:
            time.sleep(self.pause_s)
            self._since = time.perf_counter()
