"""Blocking work (model loading, file finalizing, exports) run off the event loop.

Plain Python threads on purpose: under qasync the loop's default executor runs QThreads,
and a QThread still alive when the application exits aborts the process.
"""
from __future__ import annotations

import asyncio
import functools
import gc
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
