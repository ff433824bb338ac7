"""Per-platform options of a scenario: how hard each imitation web client is on the bot.

Every default is what the real page does (docs/PLATFORMS.md, each platform's "Behaviours");
a scenario changes an option to show a variant the evidence lists, or to switch off one
behaviour so that a test isolates another. A scenario names them under the platform's key:

    "teams": {"launcher": "prompt", "light_experience_redirect": true, "denied_text": "denied_access",
              "desktop_app_launch": "navigate"},
    "zoom": {"host_starts_after_s": 3, "not_started_screen": "invalid_link", "toolbar_hides_after_s": 5,
             "desktop_app_launch": "navigate"},
    "google_meet": {"join_button": "default", "dialog": "recording", "toolbar_hides_after_s": 5},
    "webex": {"client": null, "app_prompt": true, "desktop_app_launch": "navigate"}
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

TOOLBAR_HIDES_AFTER_S = 5.0   # "a few seconds without pointer movement"
HOST_STARTS_AFTER_S = 3.0     # the Zoom host starts the meeting this long after the first visit
# How a page hands the meeting to its desktop app: "navigate" sets the page's own address to
# the app's link, "frame" points a hidden frame at it.
DESKTOP_APP_LAUNCHES = ("navigate", "frame")


class Fields(Protocol):
    """The typed field reader of recorder/simulator/scenario.py (errors name the field)."""

    where: str

    def check_keys(self, allowed: set[str]) -> None: ...
    def has(self, key: str) -> bool: ...
    def raw(self, key: str) -> Any: ...
    def choice(self, key: str, choices: tuple[str, ...], *, default: str) -> str: ...
    def seconds(self, key: str, *, default: Any = ...) -> Any: ...
    def flag(self, key: str, *, default: bool) -> bool: ...
    def error(self, key: str, message: str) -> Exception: ...


@dataclass(frozen=True)
class TeamsOptions:
    # "prompt": the launcher asks "Continue on this browser"; "direct": it goes straight on.
    launcher: str = "prompt"
    # Once per meeting the service moves the pre-join page to an address with
    # lightExperience=false, where the join cannot go on: the join must be started again.
    light_experience_redirect: bool = True
    # Which of the two denial texts the retry screen shows.
    denied_text: str = "denied_access"
    desktop_app_launch: str = "navigate"


@dataclass(frozen=True)
class ZoomOptions:
    # Seconds after the meeting's first page load until the host starts it; None: never.
    # Until then the web client shows the host-not-started page, which never updates itself.
    host_starts_after_s: float | None = HOST_STARTS_AFTER_S
    # "invalid_link": title "Error - Zoom" and "This meeting link is invalid (3,001)";
    # "waiting_for_host": "Waiting for the host to start this meeting".
    not_started_screen: str = "invalid_link"
    toolbar_hides_after_s: float | None = TOOLBAR_HIDES_AFTER_S
    desktop_app_launch: str = "navigate"


@dataclass(frozen=True)
class MeetOptions:
    # "default": "Ask to join" / "Join now"; "join_here_too": the bot's account is already in
    # the call on another device.
    join_button: str = "default"
    # The dialog shown on admission, to confirm with its OK button; None: none.
    dialog: str | None = "recording"
    toolbar_hides_after_s: float | None = TOOLBAR_HIDES_AFTER_S


@dataclass(frozen=True)
class WebexOptions:
    # None: by link (j.php -> the newer client in the page itself, other links -> the
    # classic client in #unified-webclient-iframe); or "main_page" / "iframe" for every link.
    client: str | None = None
    # The "Problem joining from browser?" popup over the newer client's guest form.
    app_prompt: bool = True
    desktop_app_launch: str = "navigate"


@dataclass(frozen=True)
class PlatformOptions:
    teams: TeamsOptions = field(default_factory=TeamsOptions)
    zoom: ZoomOptions = field(default_factory=ZoomOptions)
    google_meet: MeetOptions = field(default_factory=MeetOptions)
    webex: WebexOptions = field(default_factory=WebexOptions)

    def for_platform(self, platform: str) -> dict[str, Any]:
        return asdict(getattr(self, platform))


PLATFORM_KEYS = ("teams", "zoom", "google_meet", "webex")
MEET_DIALOGS = ("recording", "gemini")


def teams_options(fields: Fields) -> TeamsOptions:
    fields.check_keys({"launcher", "light_experience_redirect", "denied_text", "desktop_app_launch"})
    return TeamsOptions(
        launcher=fields.choice("launcher", ("prompt", "direct"), default="prompt"),
        light_experience_redirect=fields.flag("light_experience_redirect", default=True),
        denied_text=fields.choice("denied_text", ("denied_access", "declined"), default="denied_access"),
        desktop_app_launch=fields.choice("desktop_app_launch", DESKTOP_APP_LAUNCHES, default="navigate"),
    )


def zoom_options(fields: Fields) -> ZoomOptions:
    fields.check_keys({"host_starts_after_s", "not_started_screen", "toolbar_hides_after_s", "desktop_app_launch"})
    return ZoomOptions(
        host_starts_after_s=_optional_seconds(fields, "host_starts_after_s", HOST_STARTS_AFTER_S),
        not_started_screen=fields.choice("not_started_screen", ("invalid_link", "waiting_for_host"),
                                         default="invalid_link"),
        toolbar_hides_after_s=_hide_after(fields),
        desktop_app_launch=fields.choice("desktop_app_launch", DESKTOP_APP_LAUNCHES, default="navigate"),
    )


def meet_options(fields: Fields) -> MeetOptions:
    fields.check_keys({"join_button", "dialog", "toolbar_hides_after_s"})
    dialog: str | None = None
    if not fields.has("dialog") or fields.raw("dialog") is not None:
        dialog = fields.choice("dialog", MEET_DIALOGS, default="recording")
    return MeetOptions(
        join_button=fields.choice("join_button", ("default", "join_here_too"), default="default"),
        dialog=dialog,
        toolbar_hides_after_s=_hide_after(fields),
    )


def webex_options(fields: Fields) -> WebexOptions:
    fields.check_keys({"client", "app_prompt", "desktop_app_launch"})
    client: str | None = None
    if fields.raw("client") is not None:
        client = fields.choice("client", ("main_page", "iframe"), default="main_page")
    return WebexOptions(client=client, app_prompt=fields.flag("app_prompt", default=True),
                        desktop_app_launch=fields.choice("desktop_app_launch", DESKTOP_APP_LAUNCHES,
                                                         default="navigate"))


def _hide_after(fields: Fields) -> float | None:
    value = _optional_seconds(fields, "toolbar_hides_after_s", TOOLBAR_HIDES_AFTER_S)
    if value is not None and value <= 0:
        raise fields.error("toolbar_hides_after_s", "must be greater than 0 (null: never hides)")
    return value


def _optional_seconds(fields: Fields, key: str, default: float) -> float | None:
    """A number of seconds; absent: the default; null: never."""
    if not fields.has(key):
        return default
    return fields.seconds(key, default=None)
