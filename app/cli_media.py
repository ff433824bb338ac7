"""Command-line commands that drive the recorder and the bot (transcribe, record, demo, join)."""
from __future__ import annotations


def register(sub) -> None:
    """Recorder and bot commands arrive with their subsystems."""
