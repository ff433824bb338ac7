"""(ours) Meeting notes of a finished session: make them (on this computer, with an Ollama
server, or with an OpenAI-compatible endpoint), follow the job, cancel it, read them."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.errors import error_responses
from app.api.routes_sessions import Manager, load_session
from app.api.schemas import NotesBody, NotesOut
from app.notes.service import NotesJob
from app.sessions import SessionManager
from app.timeutil import iso_now

router = APIRouter(tags=["notes"])


def _notes_out(manager: SessionManager, session_id: str, job: NotesJob | None) -> dict[str, Any]:
    notes = manager.notes(session_id)
    state = job.to_dict() if job is not None else {
        "session_id": session_id, "state": "none", "progress": 0.0, "error": None, "backend": None,
        "automatic": False, "created_at": None, "timestamp": iso_now()}
    return {**state, "notes": notes.to_dict() if notes is not None else None}


@router.post("/sessions/{session_id}/notes", status_code=202, response_model=NotesOut,
             summary="(ours) Make the finished session's meeting notes",
             responses=error_responses(404, 409, 413, 422))
async def start_notes(session_id: str, manager: Manager, body: NotesBody | None = None) -> dict[str, Any]:
    """Returns at once; progress and the end come as `notes` events on the session's status and
    log streams. The notes stored so far stay until the new ones are made. A job already
    queued or running is returned as it is. Only the openai back-end sends the transcript off
    this computer."""
    load_session(manager, session_id)
    backend = body.backend if body is not None else None
    return _notes_out(manager, session_id, manager.notetaker.start(session_id, backend))


@router.get("/sessions/{session_id}/notes", response_model=NotesOut,
            summary="(ours) The session's meeting notes, and the state of its notes job",
            responses=error_responses(404, 422))
async def get_notes(session_id: str, manager: Manager) -> dict[str, Any]:
    load_session(manager, session_id)
    return _notes_out(manager, session_id, manager.notetaker.job(session_id))


@router.delete("/sessions/{session_id}/notes", response_model=NotesOut,
               summary="(ours) Cancel the session's notes job; the stored notes stay as they are",
               responses=error_responses(404, 422))
async def cancel_notes(session_id: str, manager: Manager) -> dict[str, Any]:
    """Answers once the job has stopped (state cancelled), or at once when none runs."""
    load_session(manager, session_id)
    return _notes_out(manager, session_id, await manager.notetaker.stop(session_id))
