"""Session events into the Qt thread.

The event bus calls subscribers on whatever thread published (the transcriber's worker, the
asyncio loop); widgets may only be touched from the GUI thread. The bridge re-emits each
event as a Qt signal delivered through the event queue, in publishing order.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal

from app.events import EventBus


class EventBridge(QObject):
    received = Signal(object)  # app.events.SessionEvent, on the GUI thread
    _relay = Signal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Queued even when published on the GUI thread: a view never runs inside a
        # SessionManager call, and events keep their order.
        self._relay.connect(self.received, Qt.ConnectionType.QueuedConnection)
        self._subscription = bus.subscribe(self._relay.emit)

    def close(self) -> None:
        self._subscription.close()
