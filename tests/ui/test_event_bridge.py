"""Session events reach the window on its own thread, in order, without a burst of them
holding the window."""
from __future__ import annotations

import threading
import time

from PySide6.QtCore import QThread, QTimer

from app.events import EventBus
from ui.event_bridge import EventBridge


def test_events_from_any_thread_reach_the_gui_thread_in_publishing_order(qtbot):
    bus = EventBus()
    bridge = EventBridge(bus)
    seen: list[tuple[int, bool]] = []
    bridge.received.connect(lambda event: seen.append((event.data["n"], QThread.currentThread().isMainThread())))

    def publish() -> None:
        for n in range(500):
            bus.publish("log", "mbsess_one", {"n": n})

    worker = threading.Thread(target=publish)
    worker.start()
    worker.join()
    bus.publish("log", "mbsess_one", {"n": 500})   # and from the GUI thread too, after them
    qtbot.waitUntil(lambda: len(seen) == 501)
    assert [n for n, _ in seen] == list(range(501))
    assert all(on_gui_thread for _, on_gui_thread in seen)
    bridge.close()


def test_a_burst_of_events_leaves_the_window_turns_to_paint_and_take_input(qtbot):
    """A session that ends publishes its last lines, logs and statuses at once; the window
    must get its turns between them, not only after the last one."""
    bus = EventBus()
    bridge = EventBridge(bus)
    handled: list[int] = []

    def slow_view(event) -> None:   # a view that takes a few milliseconds per event
        time.sleep(0.003)
        handled.append(event.data["n"])

    bridge.received.connect(slow_view)
    window_turns: list[int] = []
    ticker = QTimer(interval=0)
    ticker.timeout.connect(lambda: window_turns.append(len(handled)))
    for n in range(60):
        bus.publish("transcript", "mbsess_one", {"n": n})
    ticker.start()
    qtbot.waitUntil(lambda: len(handled) == 60, timeout=5000)
    ticker.stop()
    assert handled == list(range(60))
    # The window had turns while the burst was still being handed over.
    assert any(0 < seen < 60 for seen in window_turns)
    bridge.close()
