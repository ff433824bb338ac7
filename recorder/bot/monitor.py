"""The bot's decisions, free of Qt: from the page observer's reports and the clock, which
phase the bot is in, what to click next, who joined or left, who speaks, and when and why
the bot's time in the meeting ends.

Outcome codes are the bot's vocabulary (recorder/bot/outcome.py, docs/PLATFORMS.md).
Removal is a failure (BOT_REMOVED): the recording did not end on the user's terms.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from recorder.bot.config import LeaveTimers
from recorder.bot.outcome import Outcome, completed, failed
from recorder.bot.page_state import PageState
from recorder.bot.roster import UNCHANGED, Roster, SpeakerTracker

LOADING, PREJOIN, LOBBY, ADMITTED = "loading", "prejoin", "lobby", "admitted"

ACTION_INTERVAL_S = 1.5     # between two tries of the same pre-join action
JOIN_RETRY_S = 5.0          # a join click the page ignored is tried again after this
MAX_ATTEMPTS = 4            # tries of the name field or a toggle before going on without it
NETWORK_GRACE_S = 60.0      # offline / reconnecting this long in the meeting -> NETWORK_LOST
PAGE_LOAD_TIMEOUT_S = 60.0  # the meeting page shows nothing at all this long -> PAGE_LOAD_FAILED
NOT_STARTED_RELOAD_S = 15.0  # the host has not started the meeting: look again this often
MAX_JOIN_RETRIES = 2         # the platform sent the bot to a page that asks to start the join over
# A speaking indicator names a speaker only while the meeting audio is loud within this
# window: some clients always mark someone as active, even in silence (docs/PLATFORMS.md).
SPEAKER_AUDIO_WINDOW_S = 1.5
# When speech starts after a pause, an indicator the page already showed before it is stale
# until it changes or is still shown this long after the start: speaker view keeps the last
# speaker on screen, and its switch to the new one can reach the bot after the first audio.
SPEAKER_CONFIRM_S = 1.0
FRESH_INDICATOR_S = 0.5     # an indicator that changed this shortly before the start is fresh


@dataclass
class Step:
    """What one observation or clock tick leads to."""

    phase: str | None = None                        # the new phase, when it changed
    actions: list[dict] = field(default_factory=list)
    joined: list[tuple[str, bool]] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    speaker: object = UNCHANGED                     # a name, None, or UNCHANGED
    notes: list[tuple[str, str]] = field(default_factory=list)   # (level, message)
    outcome: Outcome | None = None
    diagnose: str | None = None     # why a diagnostics snapshot of the page is wanted now
    title: str | None = None        # the meeting's title, the first time the call shows one


class MeetingMonitor:
    def __init__(self, timers: LeaveTimers, bot_name: str, started_at: float, *,
                 guest_email: str | None = None, network_grace: float = NETWORK_GRACE_S,
                 load_timeout: float = PAGE_LOAD_TIMEOUT_S, unexplained_after: float = 30.0) -> None:
        self.timers = timers
        self.bot_name = bot_name
        self.guest_email = guest_email
        self.network_grace = network_grace
        self.load_timeout = load_timeout
        self.phase = LOADING
        self.roster = Roster(bot_name)
        self.speakers = SpeakerTracker()
        self.done = False
        self._started_at = started_at
        self._admitted_at: float | None = None
        self._last_activity = started_at
        self._activity_seen = False
        self._alone_since: float | None = None
        self._offline_since: float | None = None
        self._last_loud: float | None = None
        self._speech_began = 0.0                 # when the audio last turned loud after a pause
        self._indicated: tuple[str, ...] = ()    # speakers the page's indicators show
        self._indicated_at = 0.0                 # when that set last changed
        self.unexplained_after = unexplained_after
        self._unexplained_since: float | None = None
        self._unexplained_reported = False
        self._not_started: str | None = None   # what the page shows while the host has not started
        self._last_try: dict[str, float] = {}
        self._tries: dict[str, int] = {}
        self._warned: set[str] = set()
        self.title_seen = False

    # -- inputs ---------------------------------------------------------------------------
    def page_loaded(self, now: float) -> Step:
        step = Step()
        if self.phase == LOADING and not self.done:
            step.phase = self.phase = PREJOIN
        return step

    def note_activity(self, now: float) -> None:
        """Someone spoke (a speaking indicator, or voice activity in the audio)."""
        if self.phase == ADMITTED:
            self._last_activity = now
            self._activity_seen = True

    def note_loud_audio(self, now: float) -> Step:
        """The meeting audio was above the level of silence at `now`: when it starts again
        after a pause, the speaker the page indicates is named at once, not at its next report."""
        was_heard = self._audio_heard(now)
        self._last_loud = now
        if was_heard:
            return Step()
        self._speech_began = now
        return self.refresh_speaker(now)

    def refresh_speaker(self, now: float) -> Step:
        """The speaker as the last page report and the audio level say now."""
        step = Step()
        if self.phase == ADMITTED and not self.done:
            fresh = (self._indicated_at >= self._speech_began - FRESH_INDICATOR_S
                     or now - self._speech_began >= SPEAKER_CONFIRM_S)
            speaking = list(self._indicated) if self._audio_heard(now) and fresh else []
            step.speaker = self.speakers.update(speaking)
            if speaking:
                self.note_activity(now)
        return step

    def _audio_heard(self, now: float) -> bool:
        return self._last_loud is not None and now - self._last_loud <= SPEAKER_AUDIO_WINDOW_S

    def observe(self, state: PageState, now: float) -> Step:
        step = Step()
        if self.done:
            return step
        step.outcome = self._verdict(state)
        if step.outcome:
            self.done = True
            return step
        self._advance_phase(state, now, step)
        if self.phase == ADMITTED:
            step.joined, step.left = self.roster.update(list(state.participants))
            if state.speakers != self._indicated:
                self._indicated, self._indicated_at = state.speakers, now
            step.speaker = self.refresh_speaker(now).speaker
            if state.meeting_title and not self.title_seen:
                self.title_seen = True
                step.title = state.meeting_title
            if self.roster.humans_seen and self.roster.humans_present == 0:
                self._alone_since = self._alone_since or now
            else:
                self._alone_since = None
            self._follow_connection(state, now, step)
        step.actions = self._next_actions(state, now, step)
        self._watch_unexplained(state, now, step)
        step.outcome = self.check_timers(now)
        return step

    def _watch_unexplained(self, state: PageState, now: float, step: Step) -> None:
        """Before admission, a page where no landmark of the pack is seen is a screen the pack
        does not know (the platform changed its page): after a while, ask for diagnostics."""
        known = (state.flags or state.name_input is not None or state.email_input is not None or state.join_button
                 or state.interstitial or state.mic_off is not None or state.camera_off is not None)
        if self.phase == ADMITTED or known:
            self._unexplained_since = None
            return
        self._unexplained_since = self._unexplained_since or now
        if not self._unexplained_reported and now - self._unexplained_since >= self.unexplained_after:
            self._unexplained_reported = True
            step.diagnose = f"no landmark of the selector pack seen for {self.unexplained_after:g} s"
            step.notes.append(("warning", f"The meeting page shows a screen the bot does not recognise "
                                          f"({step.diagnose}); saving diagnostics"))

    def _follow_connection(self, state: PageState, now: float, step: Step) -> None:
        offline = not state.online or state.has("reconnecting")
        if offline and self._offline_since is None:
            self._offline_since = now
            why = "the browser is offline" if not state.online else f"page shows {state.flags['reconnecting']}"
            step.notes.append(("warning", f"The meeting lost its connection ({why}); waiting up to "
                                          f"{self.network_grace:g} s for it to come back"))
        elif not offline and self._offline_since is not None:
            step.notes.append(("info", f"The connection came back after {now - self._offline_since:.0f} s"))
            self._offline_since = None

    def check_timers(self, now: float) -> Outcome | None:
        outcome = self._timer_outcome(now)
        if outcome:
            self.done = True
        return outcome

    # -- decisions ------------------------------------------------------------------------
    def _verdict(self, state: PageState) -> Outcome | None:
        """Screens that end the bot's stay, whatever the phase (docs/PLATFORMS.md, "Outcomes")."""
        def seen(landmark: str) -> str:
            return f"(page shows {state.flags[landmark]})"

        if self.phase != ADMITTED:
            # An anti-bot wall may also offer to sign in: it is checked first.
            if state.has("blocked"):
                return failed("BOT_BLOCKED", f"The platform refused the bot as automated {seen('blocked')}; "
                              "a meeting may admit it from a signed-in browser profile")
            if state.has("sign_in"):
                return failed("SIGN_IN_REQUIRED", "The meeting only admits signed-in users; anonymous join "
                              f"is turned off for it {seen('sign_in')}")
            if state.has("invalid"):
                return failed("MEETING_NOT_FOUND", f"The meeting does not exist {seen('invalid')}")
            # Zoom turns a guest away by removing them from the waiting room.
            for landmark in ("denied", "removed"):
                if state.has(landmark):
                    return failed("JOIN_DENIED", f"The bot was not let into the meeting {seen(landmark)}")
        if state.has("removed"):
            return failed("BOT_REMOVED", f"The bot was removed from the meeting {seen('removed')}")
        if state.has("ended"):
            return completed("MEETING_ENDED", f"The meeting ended {seen('ended')}", leave_first=False)
        return None

    def _advance_phase(self, state: PageState, now: float, step: Step) -> None:
        new = None
        if state.has("admitted") and not state.has("lobby"):
            if self.phase != ADMITTED:
                new = ADMITTED
                self._admitted_at = self._last_activity = now
                step.notes.append(("info", f"Admitted to the meeting (page shows {state.flags['admitted']})"))
        elif state.has("lobby") and self.phase in (LOADING, PREJOIN):
            new = LOBBY
            step.notes.append(("info", f"Waiting in the lobby (page shows {state.flags['lobby']})"))
        elif self.phase == LOADING and (state.name_input is not None or state.join_button or state.interstitial
                                        or state.flags):
            new = PREJOIN
        if new:
            step.phase = self.phase = new

    def _next_actions(self, state: PageState, now: float, step: Step) -> list[dict]:
        """At most one action per observation, each retried at a gentle pace."""
        if self.phase == ADMITTED:
            if state.prompt and self._may("dismiss_prompt", now, ACTION_INTERVAL_S):
                return [{"op": "dismiss_prompt"}]
            if "open_participants" not in self._tries:
                self._may("open_participants", now, 0)
                return [{"op": "open_participants"}]
            return []
        if state.interstitial and self._may("dismiss", now, ACTION_INTERVAL_S):
            return [{"op": "dismiss"}]
        if self.phase == LOBBY:
            return []
        if state.has("retry_join") and self._tries.get("restart", 0) < MAX_JOIN_RETRIES:
            if self._may("restart", now, JOIN_RETRY_S):
                step.notes.append(("info", f"The meeting page asks to start the join over (page shows "
                                           f"{state.flags['retry_join']}); opening the meeting link again"))
                return [{"op": "restart"}]
            return []
        if state.has("not_started"):
            return self._wait_for_host(state, now, step)
        self._not_started = None
        if state.name_input is not None and state.name_input != self.bot_name:
            if self._tries.get("fill_name", 0) < MAX_ATTEMPTS:
                due = self._may("fill_name", now, ACTION_INTERVAL_S)
                return [{"op": "fill_name", "value": self.bot_name}] if due else []
            self._warn_once(step, "fill_name", f"The name field does not keep {self.bot_name!r}; joining anyway")
        if state.email_input == "" and self.guest_email and self._tries.get("fill_email", 0) < MAX_ATTEMPTS:
            due = self._may("fill_email", now, ACTION_INTERVAL_S)
            return [{"op": "fill_email", "value": self.guest_email}] if due else []
        for toggle, what in (("mic_off", "microphone"), ("camera_off", "camera")):
            if getattr(state, toggle) is False:
                if self._tries.get(toggle, 0) < MAX_ATTEMPTS:
                    return [{"op": toggle}] if self._may(toggle, now, ACTION_INTERVAL_S) else []
                self._warn_once(step, toggle, f"Could not turn the {what} off on the join screen; the "
                                "browser has no access to it, so nothing is sent")
        if state.join_button and self._may("join", now, JOIN_RETRY_S):
            return [{"op": "join"}]
        return []

    def _wait_for_host(self, state: PageState, now: float, step: Step) -> list[dict]:
        """The host has not started the meeting: stay, and look again every so often."""
        if self._not_started is None:
            self._not_started = state.flags["not_started"]
            self._last_try["reload"] = now
            step.notes.append(("info", f"The host has not started the meeting yet (page shows {self._not_started}); "
                                       f"looking again every {NOT_STARTED_RELOAD_S:g} s until the waiting-room timer"))
            return []
        return [{"op": "reload"}] if self._may("reload", now, NOT_STARTED_RELOAD_S) else []

    def _timer_outcome(self, now: float) -> Outcome | None:
        if self.done:
            return None
        t = self.timers
        if self.phase == LOADING and now - self._started_at >= self.load_timeout:
            return failed("PAGE_LOAD_FAILED", f"The meeting page showed nothing within {self.load_timeout:g} s")
        if self.phase != ADMITTED:
            if now - self._started_at < t.waiting_room:
                return None
            if self.phase == LOBBY:
                return failed("WAITING_ROOM_TIMEOUT", f"Nobody admitted the bot within {t.waiting_room:g} s",
                              leave_first=True)
            if self._not_started is not None:
                return failed("WAITING_ROOM_TIMEOUT", f"The host did not start the meeting within {t.waiting_room:g} s "
                              f"(page shows {self._not_started})")
            return failed("WAITING_ROOM_TIMEOUT", f"Could not get into the meeting within {t.waiting_room:g} s: "
                          "the join screen did not accept the bot")
        assert self._admitted_at is not None  # set on admission
        in_meeting = now - self._admitted_at
        if self._offline_since is not None and now - self._offline_since >= self.network_grace:
            return failed("NETWORK_LOST", f"The meeting lost its connection for {self.network_grace:g} s")
        if in_meeting >= t.max_duration:
            return completed("MAX_DURATION", f"Reached the maximum recording time of {t.max_duration:g} s")
        if self._alone_since is not None and now - self._alone_since >= t.everyone_left:
            return completed("LEFT_ALONE", f"Everyone else left the meeting {t.everyone_left:g} s ago")
        if not self.roster.humans_seen and not self._activity_seen and in_meeting >= t.no_one_joined:
            return completed("NO_ONE_JOINED", f"Nobody joined within {t.no_one_joined:g} s")
        if in_meeting >= t.silence_warmup and now - self._last_activity >= t.silence:
            return completed("SILENCE_TIMEOUT", f"Nobody spoke for {t.silence:g} s")
        return None

    def _may(self, op: str, now: float, interval: float) -> bool:
        last = self._last_try.get(op)
        if last is not None and now - last < interval:
            return False
        self._last_try[op] = now
        self._tries[op] = self._tries.get(op, 0) + 1
        return True

    def _warn_once(self, step: Step, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            step.notes.append(("warning", message))
