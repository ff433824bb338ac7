"""Names and terms for whisper: kept in the settings, added to by a session's own, and handed to
the live pipeline; and the live tier's reports becoming session metadata."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.errors import ValidationError
from app.runners.common import LIVE_BEHIND_KEY, LIVE_SKIPPED_KEY, for_session, pipeline_config, session_callbacks
from app.settings import Settings, load_settings, save_settings


def test_the_vocabulary_setting_is_cleaned_checked_and_kept():
    save_settings(Settings(vocabulary=[" Zorblax  Quintara ", "velmora", "Velmora"]))
    assert load_settings().vocabulary == ["Zorblax Quintara", "velmora"]
    with pytest.raises(ValidationError) as refused:
        Settings(vocabulary=["x" * 61]).validate()
    assert refused.value.details["field"] == "vocabulary"
    with pytest.raises(ValidationError):
        Settings(vocabulary=[f"term {i}" for i in range(41)]).validate()


class Control:
    """The part of SessionControl the pipeline set-up and its callbacks use."""

    def __init__(self, metadata: dict) -> None:
        self.session = SimpleNamespace(transcription_enabled=True, transcription_language="en", metadata=metadata)
        self.logs: list[tuple[str, str]] = []
        self.written: list[dict] = []

    def log(self, level: str, message: str) -> None:
        self.logs.append((level, message))

    def metadata(self, **values) -> None:
        self.written.append(values)


def test_a_session_adds_its_own_terms_to_the_settings_ones():
    config = pipeline_config(Settings(vocabulary=["Zorblax Quintara", "OKR"]))
    assert config.vocabulary == ("Zorblax Quintara", "OKR")
    merged = for_session(config, Control({"vocabulary": "Velmora, okr\nDrunvik"}))
    assert merged.vocabulary == ("Zorblax Quintara", "OKR", "Velmora", "Drunvik")
    control = Control({"vocabulary": {"not": "a list"}})
    assert for_session(config, control).vocabulary == config.vocabulary
    assert control.logs and "vocabulary" in control.logs[0][1]


def test_the_live_tiers_reports_become_session_metadata():
    control = Control({})
    callbacks = session_callbacks(control, first_audio=lambda: None, failed=lambda error: None)
    callbacks.behind(6.0)
    callbacks.skipped([(10.0, 12.5), (40.0, 41.0)])
    assert control.written == [{LIVE_BEHIND_KEY: 6.0}, {LIVE_SKIPPED_KEY: [[10.0, 12.5], [40.0, 41.0]]}]
