"""The Python end of the page's QWebChannel (resources/bot/bridge.js is the other end).

Protocol, page -> Python (slots):
  audio_chunk(detail)     "i16:16000:<unix time of first sample or ''>:<base64 int16 LE>"
  report_state(json)      the page observer's state (see page_state.PageState), on change
                          and at least every few seconds
  page_log(detail)        "<info|warning|error>:<message>" from the injected scripts
  page_dropped(kind, n)   n page messages of a kind were over a size or rate limit
  command_done(op, where)  JSON {"what": the control, "x", "y": its centre in the view (CSS
                          px), "type"?: text to type there}; "" when no control was found
Python -> page (signal):
  command(json)           {"op": "dismiss"|"dismiss_prompt"|"fill_name"|"fill_email"|
                           "mic_off"|"camera_off"|"join"|"open_participants"|"leave"|
                           "leave_confirm", "value"?: str}
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot


class PageBridge(QObject):
    command = Signal(str)

    chunk_received = Signal(str)
    state_reported = Signal(str)
    page_logged = Signal(str, str)
    command_finished = Signal(str, str)
    messages_dropped = Signal(str, int)

    @Slot(str)
    def audio_chunk(self, detail: str) -> None:
        self.chunk_received.emit(detail)

    @Slot(str)
    def report_state(self, state: str) -> None:
        self.state_reported.emit(state)

    @Slot(str)
    def page_log(self, detail: str) -> None:
        level, _, message = detail.partition(":")
        if level not in ("info", "warning", "error"):
            level, message = "warning", detail
        self.page_logged.emit(level, message)

    @Slot(str, int)
    def page_dropped(self, kind: str, count: int) -> None:
        self.messages_dropped.emit(kind[:80], max(0, int(count)))

    @Slot(str, str)
    def command_done(self, op: str, what: str) -> None:
        self.command_finished.emit(op, what)

    def send(self, command_json: str) -> None:
        self.command.emit(command_json)
