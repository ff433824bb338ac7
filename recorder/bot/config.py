"""What a bot session is told: the meeting, the name to join with, and when to leave."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LeaveTimers:
    """Seconds; each one is a user setting (docs/PLATFORMS.md lists the usual ranges)."""

    waiting_room: float = 600          # from start until admitted (pre-join + lobby)
    no_one_joined: float = 900         # admitted, and no other person ever appeared
    everyone_left: float = 60          # the last person (not counting bots) left
    silence: float = 1800              # nobody spoke for this long ...
    silence_warmup: float = 1200       # ... checked only once this long after admission
    max_duration: float = 4 * 3600     # hard cap from admission


@dataclass(frozen=True)
class BotConfig:
    join_url: str
    platform: str                      # "teams" | "zoom" | "google_meet" | "webex"
    bot_name: str = "Meeting Buddy"
    debug_mode: bool = False           # show the bot's browser window
    # Seconds a pre-join screen may show no landmark of the pack before diagnostics are saved.
    unexplained_after: float = 30.0
    timers: LeaveTimers = field(default_factory=LeaveTimers)
    # Demo/test mode only: SHA-256 fingerprints (lowercase hex of the DER certificate) of the
    # local simulator's certificate, the one certificate error that is accepted. Empty in
    # production, where every certificate error fails the load.
    trusted_certificates: frozenset[str] = frozenset()
