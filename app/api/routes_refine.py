"""(ours) The after-meeting pass over a finished session's recording ("refine"), and the
transcript revisions it keeps: start, follow, cancel, list, restore."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter

from app.api.errors import error_responses
from app.api.routes_sessions import Manager, load_session
from app.api.schemas import RefineBody, RefineOut, RestoreBody, RevisionsOut, SessionOut
from app.errors import ValidationError
from app.refine import AUTO_MODEL, RefineJob, transcript_revision
from app.sessions import SessionManager
from app.timeutil import iso_now

router = APIRouter(tags=["refine"])


def _job_out(manager: SessionManager, session_id: str, job: RefineJob | None) -> dict[str, Any]:
    session = manager.get(session_id)
    if job is None:
        return {"session_id": session_id, "state": "none", "progress": 0.0, "model": None, "automatic": False,
                "message": None, "created_at": None, "timestamp": iso_now(),
                "transcript_revision": transcript_revision(session)}
    return job.to_dict(session)


def _check_model(name: str) -> None:
    from recorder.whisper_models import HUB_REPOS

    if name != AUTO_MODEL and name not in HUB_REPOS and not _is_folder(name):
        raise ValidationError(f"Unknown model {name!r}: choose auto, one of {', '.join(HUB_REPOS)}, or a "
                              "folder on this computer holding a CTranslate2 Whisper model", field="model")


def _is_folder(name: str) -> bool:
    try:
        return Path(name).expanduser().is_dir()
    except (OSError, RuntimeError, ValueError):  # too long, no home to expand, a NUL byte
        return False


@router.post("/sessions/{session_id}/refine", status_code=202, response_model=RefineOut,
             summary="(ours) Transcribe the finished session's recording again and replace its transcript",
             responses=error_responses(404, 409, 413, 422))
async def start_refine(session_id: str, manager: Manager, body: RefineBody | None = None) -> dict[str, Any]:
    """Returns at once; progress and the end come as `refine` events on the session's status and
    log streams, and a `transcript_revision` event on its transcript stream. The live
    transcript is kept (restore it with POST /sessions/{id}/transcripts/restore). A pass
    already queued or running is returned as it is."""
    load_session(manager, session_id)
    model = body.model if body is not None else None
    if model is not None:
        _check_model(model)
    return _job_out(manager, session_id, manager.refiner.start(session_id, model))


@router.get("/sessions/{session_id}/refine", response_model=RefineOut,
            summary="(ours) The session's after-meeting pass: state and progress",
            responses=error_responses(404, 422))
async def get_refine(session_id: str, manager: Manager) -> dict[str, Any]:
    load_session(manager, session_id)
    return _job_out(manager, session_id, manager.refiner.job(session_id))


@router.delete("/sessions/{session_id}/refine", response_model=RefineOut,
               summary="(ours) Cancel the session's after-meeting pass; the transcript stays as it is",
               responses=error_responses(404, 422))
async def cancel_refine(session_id: str, manager: Manager) -> dict[str, Any]:
    """Answers once the pass has stopped (state cancelled), or at once when none runs."""
    load_session(manager, session_id)
    return _job_out(manager, session_id, await manager.refiner.stop(session_id))


@router.get("/sessions/{session_id}/transcripts/revisions", response_model=RevisionsOut,
            summary="(ours) The transcripts kept for the session: the live one and the improved one",
            responses=error_responses(404, 422))
async def revisions(session_id: str, manager: Manager) -> dict[str, Any]:
    session = load_session(manager, session_id)
    current = transcript_revision(session)
    return {"session_id": session_id, "transcript_revision": current,
            "revisions": [{"label": r.label, "created_at": r.created_at, "segment_count": r.segment_count,
                           "current": r.label == current} for r in manager.store.transcript_revisions(session_id)]}


@router.post("/sessions/{session_id}/transcripts/restore", response_model=SessionOut,
             summary="(ours) Make a kept transcript revision the session's transcript again",
             responses=error_responses(404, 409, 413, 422))
async def restore(session_id: str, manager: Manager, body: RestoreBody | None = None) -> dict[str, Any]:
    """`revision` defaults to live; a `transcript_revision` event follows on the transcript stream."""
    load_session(manager, session_id)
    label = body.revision if body is not None else "live"
    return manager.restore_transcript(session_id, label).to_dict()
