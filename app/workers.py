"""Blocking work (model loading, file finalizing, exports) run off the event loop.

Plain Python threads on purpose: under qasync the loop's default executor runs QThreads,
and a QThread still alive when the application exits aborts the process.
"""
from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="meeting-buddy-work")


async def off_loop(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(
        _POOL, functools.partial(func, *args, **kwargs))
