"""Session events into the Qt thread.

The event bus calls subscribers on whatever thread published (the transcriber's worker, the
asyncio loop); widgets may only be touched from the GUI thread. The bridge re-emits each
event as a Qt signal on the GUI thread, in publishing order, in slices: events come in
bursts (a session ending publishes its last lines, logs and statuses at once), and handed
over all in one go a burst would hold the window for as long as all of its views take.
"""
from __future__ import annotations

import threading
import time
from collections import deque

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from app.events import EventBus, SessionEvent

# The longest the bridge hands events to the views before letting the window paint and take
# input; the rest follow on the next turn of the event loop.
SLICE_S = 0.008


class EventBridge(QObject):
    received = Signal(object)  # app.events.SessionEvent, on the GUI thread
    _arrived = Signal()

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending: deque[SessionEvent] = deque()
        self._lock = threading.Lock()
        self._next_slice = QTimer(self)
        self._next_slice.setSingleShot(True)
        self._next_slice.setInterval(0)
        self._next_slice.timeout.connect(self._hand_over)
        # Queued even when published on the GUI thread: a view never runs inside a
        # SessionManager call.
        self._arrived.connect(self._next_slice.start, Qt.ConnectionType.QueuedConnection)
        self._subscription = bus.subscribe(self._queue)

    def close(self) -> None:
        self._subscription.close()

    def _queue(self, event: SessionEvent) -> None:
        """Any thread: the event waits its turn; the first of a burst wakes the GUI thread."""
        with self._lock:
            self._pending.append(event)
            first = len(self._pending) == 1
        if first:
            self._arrived.emit()

    def _hand_over(self) -> None:
        deadline = time.perf_counter() + SLICE_S
        while time.perf_counter() < deadline:
            with self._lock:
                if not self._pending:
                    return
                event = self._pending.popleft()
            self.received.emit(event)
        self._next_slice.start()
