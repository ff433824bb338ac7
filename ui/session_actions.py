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


def export_session(parent: QWidget, app: "Application", session: Session) -> Path | None:
    """Ask where to save the transcript, in which format, and write it. Returns the file."""
    folder = app.prefs.export_dir or QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
    filters = export_filters()
    first = next(iter(filters))
    path, chosen = QFileDialog.getSaveFileName(
        parent, "Export transcript", os.path.join(folder, export_filename(session, "txt")),
        ";;".join(filters), first)
    if not path:
        return None
    target, fmt = export_target(path, chosen)
    try:
        data = export_transcript(session, app.store.transcripts(session.session_id), fmt)
        target.write_bytes(data)
    except (OSError, MeetingBuddyError) as exc:
        reason = exc.message if isinstance(exc, MeetingBuddyError) else (exc.strerror or str(exc))
        QMessageBox.warning(parent, "Export failed", f"The transcript could not be saved to "
                            f"{target}:\n{reason}")
        return None
    app.prefs.export_dir = str(target.parent)
    try:
        save_prefs(app.prefs)
    except OSError:
        pass  # remembering the folder is a convenience; the export itself succeeded
    return target


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
