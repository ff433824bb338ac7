"""Bulk work runs below the window: lowered threads, the engine's workers and a page's
renderer, never the window's own thread. Niceness is per thread on Linux only."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from recorder.priority import BULK_NICENESS, lower_process, lower_this_thread, run_lowered
from recorder.whisper_models import load_whisper, resolve_model

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="niceness is per thread on Linux only")


def niceness(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def threads() -> set[int]:
    return {int(task.name) for task in Path("/proc/self/task").iterdir()}


def test_a_lowered_thread_and_the_threads_it_starts_run_below_the_rest():
    window = niceness(threading.get_native_id())
    seen: dict[str, int] = {}

    def bulk() -> str:
        child = threading.Thread(target=lambda: seen.setdefault("started by it", niceness(threading.get_native_id())))
        child.start()
        child.join()
        seen["itself"] = niceness(threading.get_native_id())
        return "done"

    assert run_lowered(bulk) == "done"
    assert seen == {"itself": max(window, BULK_NICENESS), "started by it": max(window, BULK_NICENESS)}
    assert niceness(threading.get_native_id()) == window   # the caller's thread is untouched
    with pytest.raises(ZeroDivisionError):
        run_lowered(lambda: 1 / 0)   # a failure reaches the caller


def test_a_thread_lowers_only_itself():
    window = niceness(threading.get_native_id())
    lowered: list[int] = []
    worker = threading.Thread(target=lambda: (lower_this_thread(), lowered.append(niceness(threading.get_native_id()))))
    worker.start()
    worker.join()
    assert lowered == [max(window, BULK_NICENESS)] and niceness(threading.get_native_id()) == window


def test_whisper_engine_workers_run_below_the_window():
    import faster_whisper  # noqa: F401 - threads its import starts are not the engine's

    before = threads()
    # Threading no other test asks for: a model loaded now, with engine threads of its own.
    model = load_whisper(resolve_model("tiny.en", "en"), cpu_threads=1, workers=3)
    started = threads() - before
    assert model is not None and len(started) >= 3
    assert all(niceness(tid) >= BULK_NICENESS for tid in started)


def test_another_process_is_lowered_whole_but_never_its_parent_unless_that_is_the_browser_zygote():
    child = subprocess.Popen([sys.executable, "-c",
                              "import threading, time\n"
                              "[threading.Thread(target=time.sleep, args=(5,), daemon=True).start() for _ in range(3)]\n"
                              "time.sleep(5)"])
    try:
        window = niceness(threading.get_native_id())
        for _ in range(50):
            tids = [int(t.name) for t in Path(f"/proc/{child.pid}/task").iterdir()]
            if len(tids) >= 4:
                break
            threading.Event().wait(0.05)
        assert lower_process(child.pid) == len(tids)
        assert all(niceness(tid) >= BULK_NICENESS for tid in tids)
        assert niceness(threading.get_native_id()) == window   # this process is the parent: untouched
        assert lower_process(child.pid) == 0   # already low: nothing to do
    finally:
        child.kill()
        child.wait()
    assert lower_process(child.pid) == 0   # gone
    assert lower_process(0) == 0
