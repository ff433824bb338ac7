"""Bulk work below the window: the recorder's heavy threads (whisper's engine, the video
encoder, the screen grabber) and the meeting page's renderer processes run at a lower CPU
priority than the thread that draws the window, so that on a busy machine, or under a page
that burns the CPU, the window gets a core first.

Linux only: there niceness belongs to each thread, and threads a thread starts (an
engine's own workers) inherit it. Elsewhere the process shares one priority, which must
stay the window's, so nothing changes there. Lowering is one-way for an unprivileged
process: only threads made for the work are lowered, never a pooled one.

What is lowered computes outside the interpreter (an engine's pool, a codec, swscale, a
browser process) or briefly drives such work. A thread that runs Python at length stays at
the window's priority: lowered, it would hold the interpreter lock while it waits for a
core, and the window's thread would wait with it.
"""
from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

BULK_NICENESS = 5  # weight about a third of the window's: bulk work still gets most of a free core


def lower_this_thread(niceness: int = BULK_NICENESS) -> None:
    if sys.platform.startswith("linux"):
        _lower(threading.get_native_id(), niceness)


def run_lowered(func: Callable[[], T], niceness: int = BULK_NICENESS) -> T:
    """func() in a new thread of lower priority, waited for: what func starts (an engine's
    worker threads) keeps that priority."""
    result: list[T] = []
    failure: list[BaseException] = []

    def work() -> None:
        lower_this_thread(niceness)
        try:
            result.append(func())
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=work, name="meeting-buddy-lowered")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]


def lower_process(pid: int, niceness: int = BULK_NICENESS, *, zygote: bool = True) -> int:
    """Every thread of another process of ours (a page's renderer) at `niceness` at least, and
    with `zygote` its parent too when that is the browser's zygote, which forks the renderers
    still to come. Returns the threads lowered now. The browser may raise a renderer's main
    thread again when its page comes to the front, so callers repeat this now and then (the
    zygote need not be)."""
    if not sys.platform.startswith("linux") or pid <= 0:
        return 0
    lowered = _lower_threads(pid, niceness)
    if not zygote:
        return lowered
    try:
        parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        if b"--type=zygote" in Path(f"/proc/{parent}/cmdline").read_bytes():
            _lower_threads(parent, niceness)
    except (OSError, ValueError, IndexError):  # the process ended meanwhile
        pass
    return lowered


def _lower_threads(pid: int, niceness: int) -> int:
    try:
        tids = [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:
        return 0
    return sum(_lower(tid, niceness) for tid in tids)


def _lower(tid: int, niceness: int) -> bool:
    """True when the thread was above `niceness` and now is at it."""
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < niceness:
            os.setpriority(os.PRIO_PROCESS, tid, niceness)
            return True
    except OSError:  # ended meanwhile, not ours to change, or not allowed here (a sandbox)
        pass
    return False
