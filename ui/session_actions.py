"""The dialogs behind a session's Export and Delete buttons."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.errors import MeetingBuddyError
from app.export import FORMATS, export_filename, export_transcript
from app.models import Session
from app.store import Store
from ui.formatting import file_size
from ui.prefs import save_prefs

if TYPE_CHECKING:
    from ui.application import Application


def export_filters() -> dict[str, str]:
    """Save-dialog filter -> format, e.g. "Plain text (*.txt)" -> "txt"."""
    return {f"{fmt.name} (*.{fmt.extension})": key for key, fmt in FORMATS.items()}


def export_target(path: str, chosen_filter: str) -> tuple[Path, str]:
    """The file and format the user chose: a known extension typed in the name wins, else
    the chosen filter's format, whose extension is then added."""
    target = Path(path)
    typed = target.suffix.lower().lstrip(".")
    by_extension = {fmt.extension: key for key, fmt in FORMATS.items()}
    if typed in by_extension:
        return target, by_extension[typed]
    key = export_filters().get(chosen_filter, "txt")
    return target.with_name(f"{target.name}.{FORMATS[key].extension}"), key


def ask_export_target(parent: QWidget, app: Application, session: Session) -> tuple[Path, str] | None:
    """Ask where to save the transcript and in which format; None when cancelled."""
    folder = app.prefs.export_dir or QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
    filters = export_filters()
    first = next(iter(filters))
    path, chosen = QFileDialog.getSaveFileName(
        parent, "Export transcript", os.path.join(folder, export_filename(session, "txt")),
        ";;".join(filters), first)
    if not path:
        return None
    return export_target(path, chosen)


def write_export(store: Store, session: Session, target: Path, fmt: str) -> Path:
    """Render and save the transcript (blocking: run it off the GUI thread). The file is
    replaced only once complete, so a failed export never leaves half a file."""
    data = export_transcript(session, store.transcripts(session.session_id), fmt, store.notes(session.session_id))
    partial = target.with_name(f".{target.name}.part")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def export_failed(parent: QWidget, target: Path, exc: Exception) -> None:
    reason = exc.message if isinstance(exc, MeetingBuddyError) else (getattr(exc, "strerror", None) or str(exc))
    QMessageBox.warning(parent, "Export failed", f"The transcript could not be saved to {target}:\n{reason}")


def remember_export_folder(app: Application, target: Path) -> None:
    app.prefs.export_dir = str(target.parent)
    try:
        save_prefs(app.prefs)
    except OSError:
        pass  # remembering the folder is a convenience; the export itself succeeded


def confirm_delete(parent: QWidget, session: Session, folder: Path) -> bool:
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []
    size = sum(p.stat().st_size for p in files)
    what = (f"its {len(files)} recorded file{'s' if len(files) != 1 else ''} ({file_size(size)})"
            if files else "its folder")
    running = "" if session.is_terminal else "The bot leaves the meeting first. "
    answer = QMessageBox.question(
        parent, "Delete session",
        f"Delete this session for good?\n\n{running}The transcript, the participants, the log "
        f"and {what} are removed:\n{folder}",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
