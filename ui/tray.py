"""The tray icon: shows whether a bot is joining or recording, offers Quick join (the
meeting link on the clipboard), the running sessions with Stop, and Quit; tells the user
when the bot is admitted, when a session fails (why, in words) and when one is complete."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.error_texts import explain
from app.events import SessionEvent
from app.models import Status
from app.titles import session_title
from ui.formatting import status_label
from ui.icons import tray_icon

if TYPE_CHECKING:
    from ui.application import Application

_RECORDING = {Status.ACTIVE.value, Status.RECORDING.value}


class Tray(QObject):
    def __init__(self, app: Application) -> None:
        super().__init__(app)
        self.app = app
        self.state = "idle"
        self.icon = QSystemTrayIcon(tray_icon("idle"), self)
        self.icon.setToolTip("Meeting Buddy")
        self.menu = QMenu()
        self.quick_join_action = QAction("Quick join (link on the clipboard)", self.menu)
        self.record_action = QAction("Record this computer", self.menu)
        self.open_action = QAction("Open Meeting Buddy", self.menu)
        self.quit_action = QAction("Quit", self.menu)
        self._session_menus: list[QMenu] = []
        self._statuses: dict[str, str] = {}  # last status seen of each session not yet finished
        self._sessions_anchor = QAction(self.menu)
        self._sessions_anchor.setSeparator(True)
        self.menu.addAction(self.quick_join_action)
        self.menu.addAction(self.record_action)
        self.menu.addAction(self._sessions_anchor)
        self.menu.addSeparator()
        self.menu.addAction(self.open_action)
        self.menu.addAction(self.quit_action)
        self.icon.setContextMenu(self.menu)

        self.quick_join_action.triggered.connect(lambda: self.app.quick_join())
        self.record_action.triggered.connect(lambda: self.app.record_this_computer())
        self.open_action.triggered.connect(self.app.show_window)
        self.quit_action.triggered.connect(lambda: self.app.request_quit())
        self.icon.activated.connect(self._activated)
        app.liveSessionsChanged.connect(self.refresh)
        app.events.received.connect(self._on_event)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.app.show_window()

    # -- state and running sessions ----------------------------------------------------------

    def refresh(self) -> None:
        live = self.app.live_sessions()
        if any(s.status in _RECORDING for s in live):
            state = "recording"
        elif live:
            state = "joining"
        else:
            state = "idle"
        if state != self.state:
            self.state = state
            self.icon.setIcon(tray_icon(state))
        self.icon.setToolTip("Meeting Buddy" if not live else
                             "Meeting Buddy — " + "; ".join(f"{session_title(s)}: {status_label(s.status)}"
                                                           for s in live))
        for menu in self._session_menus:
            self.menu.removeAction(menu.menuAction())
            menu.deleteLater()
        self._session_menus = []
        for session in live:
            menu = QMenu(f"{session_title(session)} — {status_label(session.status)}", self.menu)
            show = menu.addAction("Show")
            show.triggered.connect(lambda _=False, sid=session.session_id: self._show_session(sid))
            stop = menu.addAction("Stop")
            stop.setEnabled(session.status is not Status.LEAVING)
            stop.triggered.connect(lambda _=False, sid=session.session_id: self.app.stop_session(sid))
            self.menu.insertMenu(self._sessions_anchor, menu)
            self._session_menus.append(menu)

    def session_menus(self) -> list[QMenu]:
        return list(self._session_menus)

    def _show_session(self, session_id: str) -> None:
        self.app.show_window()
        assert self.app.window is not None
        self.app.window.select_session(session_id)

    # -- notifications -----------------------------------------------------------------------

    def show_message(self, title: str, message: str, *, warning: bool = False) -> None:
        if self.icon.isVisible():
            kind = QSystemTrayIcon.MessageIcon.Warning if warning else QSystemTrayIcon.MessageIcon.Information
            self.icon.showMessage(title, message, kind, 8000)

    def _on_event(self, event: SessionEvent) -> None:
        """Status changes, judged on the whole session ("session" events carry its outcome)."""
        if event.kind != "session":
            return
        data = event.data
        status = data["status"]
        before = self._statuses.get(event.session_id)
        if status in (Status.COMPLETED.value, Status.FAILED.value):
            self._statuses.pop(event.session_id, None)
        else:
            self._statuses[event.session_id] = status
        if before is None and status != Status.INITIALIZING.value or before == status:
            return  # not a change this application saw happen
        if status == Status.ACTIVE.value:
            self.app.notify("The bot is in the meeting", "It was let in and is recording.")
        elif status == Status.FAILED.value:
            text = explain(data.get("error_code"))
            self.app.notify(f"Session failed: {text.title}",
                            " ".join(filter(None, (text.explanation, text.remedy))), warning=True)
        elif status == Status.COMPLETED.value:
            reason = explain(data.get("metadata", {}).get("end_reason")).title
            self.app.notify("Recording complete",
                            f"{reason}. The transcript is ready to read and export.")
