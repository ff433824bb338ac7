"""A real meeting bot run under pytest-qt with every signal it sends recorded, for the bot's
tests against local pages and the meeting simulator."""
from __future__ import annotations

import time

import numpy as np

from recorder.bot.bot import MeetingBot
from recorder.bot.config import BotConfig


class Run:
    """A real bot with every signal recorded: speaker changes with their time, log lines
    with the seconds since the run began (to read a failure's timeline)."""

    def __init__(self, qtbot, config: BotConfig):
        self.qtbot = qtbot
        self.phases, self.joined, self.left, self.speakers = [], [], [], []
        self.logs, self.finished, self.chunks = [], [], []
        self.bot = MeetingBot(config, audio_sink=lambda samples, t: self.chunks.append((samples, t, time.monotonic())))
        self.bot.phase_changed.connect(self.phases.append)
        self.bot.participant_joined.connect(lambda name, is_bot: self.joined.append((name, is_bot)))
        self.bot.participant_left.connect(self.left.append)
        self.bot.speaker_changed.connect(lambda name: self.speakers.append((time.monotonic(), name)))
        self.started = time.monotonic()
        self.bot.log.connect(lambda level, message: self.logs.append(
            (level, f"{time.monotonic() - self.started:5.1f} s {message}")))
        self.bot.finished.connect(lambda o: self.finished.append((o.ending, o.code, o.message)))

    def start(self) -> Run:
        self.bot.start()
        return self

    def wait_phase(self, phase: str, timeout: float = 30) -> None:
        self.qtbot.waitUntil(lambda: phase in self.phases or bool(self.finished), timeout=int(timeout * 1000))
        assert phase in self.phases, (self.phases, self.finished, self.logs[-15:])

    def wait_finished(self, timeout: float = 40, *, required: bool = True) -> tuple[str, str, str] | None:
        """(ending, code, message) of the bot's one outcome; None when it did not finish in
        time and `required` is False."""
        try:
            self.qtbot.waitUntil(lambda: bool(self.finished), timeout=int(timeout * 1000))
        except Exception:
            if not required:
                return None
            log = "\n".join(f"{level}: {message}" for level, message in self.logs[-25:])
            raise AssertionError(f"the bot did not finish within {timeout} s; phases {self.phases}; log:\n{log}") from None
        self.qtbot.wait(300)
        assert len(self.finished) == 1, self.finished
        return self.finished[0]

    def audio(self) -> np.ndarray:
        return np.concatenate([c[0] for c in self.chunks]) if self.chunks else np.zeros(0, np.float32)

    def speaker_names(self) -> set[str]:
        return {name for _, name in self.speakers if name}

    def close(self) -> None:
        self.bot.close()
        self.qtbot.wait(50)
