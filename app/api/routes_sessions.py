"""Session endpoints: start, list, show, rename, stop, purge, transcripts, export, analytics,
import, diagnostics."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from app.api.errors import error_responses
from app.api.schemas import (
    DiagnosticsOut,
    FormatName,
    ImportBody,
    PlatformName,
    RenameBody,
    SessionAnalyticsOut,
    SessionOut,
    SessionPageOut,
    SpeakerRenameBody,
    SpeakerRenameOut,
    StartSessionBody,
    StatusName,
    TranscriptOut,
)
from app.diagnostics import read_summaries, zip_bundles
from app.errors import SessionNotFound, ValidationError
from app.export import FORMATS, export_filename, export_transcript
from app.models import Session, TranscriptSegment
from app.paths import validate_id
from app.sessions import SessionManager, StartRequest
from app.talk_time import talk_time
from app.workers import off_loop

MAX_OFFSET = 2 ** 31 - 1
UNNAMED_ORIGIN = "unspecified"

router = APIRouter(tags=["sessions"])


def manager_of(request: Request) -> SessionManager:
    return request.app.state.manager


Manager = Annotated[SessionManager, Depends(manager_of)]


def load_session(manager: SessionManager, session_id: str) -> Session:
    """The session, or SESSION_NOT_FOUND, for malformed ids too (nothing about why leaks)."""
    try:
        validate_id(session_id)
    except ValidationError:
        raise SessionNotFound(session_id[:128]) from None
    return manager.get(session_id)


async def _stop(manager: SessionManager, session_id: str) -> dict[str, Any]:
    load_session(manager, session_id)
    return (await manager.stop(session_id)).to_dict()


@router.post("/sessions", status_code=201, response_model=SessionOut,
             summary="Start a bot session", responses=error_responses(413, 422))
async def start_session(body: StartSessionBody, manager: Manager) -> dict[str, Any]:
    """Returns at once with status `initializing`; the bot starts behind it."""
    return manager.start(StartRequest(**body.model_dump())).to_dict()


@router.get("/sessions", response_model=SessionPageOut, summary="List sessions, newest first",
            responses=error_responses(422))
async def list_sessions(
    manager: Manager,
    status: Annotated[StatusName | None, Query()] = None,  # absent: any
    platform: Annotated[PlatformName | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    page = manager.store.list_sessions(status=status, platform=platform, limit=limit, offset=offset)
    return {"data": [s.to_dict() for s in page.data], "total_count": page.total_count,
            "has_more": page.has_more}


@router.get("/sessions/{session_id}", response_model=SessionOut, summary="One session",
            responses=error_responses(404, 422))
async def get_session(session_id: str, manager: Manager) -> dict[str, Any]:
    return load_session(manager, session_id).to_dict()


@router.patch("/sessions/{session_id}", response_model=SessionOut, summary="(ours) Rename a session",
              responses=error_responses(404, 409, 413, 422))
async def rename_session(session_id: str, body: RenameBody, manager: Manager) -> dict[str, Any]:
    """Sets `metadata.title`, cleaned; a null or blank title removes it. A copy of another
    Meeting Buddy's session is 409 SESSION_READ_ONLY."""
    load_session(manager, session_id)
    return manager.rename(session_id, body.title).to_dict()


@router.post("/sessions/{session_id}/speakers/rename", response_model=SpeakerRenameOut,
             summary="(ours) Rename a speaker of a finished session", responses=error_responses(404, 409, 413, 422))
async def rename_speaker(session_id: str, body: SpeakerRenameBody, manager: Manager) -> dict[str, Any]:
    """Every line of speaker `from` (in the transcript and its kept revisions) names `to`.
    422 VALIDATION_ERROR when the transcript has no such speaker or `to` is blank or too
    long; 409 while the session runs or its transcript is being improved, and for a copy of
    another Meeting Buddy's session."""
    load_session(manager, session_id)
    lines = await off_loop(manager.rename_speaker, session_id, body.from_, body.to)
    return {"session_id": session_id, "from": body.from_, "to": body.to, "lines": lines}


@router.post("/sessions/{session_id}/stop", response_model=SessionOut, summary="Stop a session",
             responses=error_responses(404, 409, 422))
async def stop_session(session_id: str, manager: Manager) -> dict[str, Any]:
    """The bot leaves, pending transcription is saved, status `completed`. Idempotent."""
    return await _stop(manager, session_id)


@router.delete("/sessions/{session_id}", response_model=SessionOut,
               summary="Stop a session, or remove it with purge=true",
               responses={204: {"description": "Purged: the session, its transcripts and files "
                                               "are gone"},
                          **error_responses(404, 409, 422)})
async def stop_or_purge_session(
        session_id: str, manager: Manager,
        purge: Annotated[bool, Query(description="(ours) also remove the session, its "
                                                 "transcripts and files")] = False) -> Any:
    if not purge:
        return await _stop(manager, session_id)
    load_session(manager, session_id)
    await manager.delete(session_id)
    return Response(status_code=204)


@router.get("/sessions/{session_id}/transcripts", response_model=list[TranscriptOut],
            summary="Final transcript segments, by start time (a bare array)",
            responses=error_responses(404, 422))
async def transcripts(session_id: str, manager: Manager) -> list[dict[str, Any]]:
    load_session(manager, session_id)
    return [t.to_dict() for t in manager.store.transcripts(session_id)]


_EXPORT_CONTENT = {
    fmt.content_type.split(";")[0]: {"schema": ({"type": "object"} if key == "json"
                                                else {"type": "string", "format": "binary"})}
    for key, fmt in FORMATS.items()
}


@router.get("/sessions/{session_id}/transcripts/export", response_class=Response,
            summary="Export the transcript as a file",
            responses={200: {"description": "The file, with a Content-Disposition file name",
                             "content": _EXPORT_CONTENT},
                       **error_responses(404, 422)})
async def export(session_id: str, manager: Manager,
                 fmt: Annotated[FormatName, Query(alias="format")]) -> Response:
    session = load_session(manager, session_id)
    segments = manager.store.transcripts(session_id)
    # DOCX of a long meeting takes a moment: keep it off the event loop.
    data = await off_loop(export_transcript, session, segments, fmt, manager.store.notes(session_id))
    return Response(data, media_type=FORMATS[fmt].content_type, headers={
        "Content-Disposition": f'attachment; filename="{export_filename(session, fmt)}"'})


@router.get("/sessions/{session_id}/analytics", response_model=SessionAnalyticsOut,
            summary="(ours) Talk time per speaker and who spoke when, from the final transcript",
            responses=error_responses(404, 422))
async def session_analytics(session_id: str, manager: Manager) -> dict[str, Any]:
    """The numbers the Markdown and DOCX exports show under "Talk time"."""
    load_session(manager, session_id)
    counted = await off_loop(lambda: talk_time(manager.store.transcripts(session_id)))
    return {"session_id": session_id, **counted.to_dict()}


@router.get("/sessions/{session_id}/diagnostics", response_model=DiagnosticsOut,
            summary="What the bot saw when a join failed or a screen was unknown",
            responses={200: {"description": "The bundles' summaries, or with format=zip all bundles "
                                            "as one zip file",
                             "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}}},
                       **error_responses(404, 422)})
async def diagnostics(session_id: str, manager: Manager,
                      fmt: Annotated[Literal["json", "zip"], Query(alias="format")] = "json") -> Any:
    """Each bundle holds screenshot.png, page.html, landmarks.json and log.txt, passcodes and
    tokens removed."""
    session = load_session(manager, session_id)
    folder = manager.output_dir(session)
    if fmt == "zip":
        data = await off_loop(zip_bundles, folder)
        return Response(data, media_type="application/zip", headers={
            "Content-Disposition": f'attachment; filename="{session.session_id}-diagnostics.zip"'})
    return {"session_id": session.session_id, "bundles": await off_loop(read_summaries, folder)}


@router.put("/sessions/{session_id}", response_model=SessionOut,
            summary="Import a session and its transcripts (sync)",
            responses={201: {"model": SessionOut, "description": "Created"},
                       **error_responses(409, 413, 422)})
async def import_(session_id: str, body: ImportBody, manager: Manager,
                  response: Response) -> dict[str, Any]:
    """Stores a read-only copy of another Meeting Buddy's session. Idempotent; an existing
    copy is replaced only by a newer updated_at (200 either way, 201 when new)."""
    if body.session.session_id != session_id:
        raise ValidationError("session.session_id must be the session id of the path",
                              field="session.session_id")
    session = Session.from_dict(body.session.model_dump())
    segments = [TranscriptSegment(**{**t.model_dump(), "session_id": t.session_id or session_id})
                for t in body.transcripts]
    result = manager.import_session(session, segments, body.origin or UNNAMED_ORIGIN)
    response.status_code = 201 if result.outcome == "created" else 200
    return result.session.to_dict()
