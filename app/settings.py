"""User settings, persisted as JSON in the config folder. Secrets never live here: tokens go
to the keyring through `app.secrets`."""
from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from app.errors import ValidationError
from app.models import DEFAULT_BOT_NAME
from app.notes.models import BACKENDS as NOTES_BACKENDS
from app.paths import config_dir
from recorder.vocabulary import VocabularyError, clean_vocabulary

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"


@dataclass
class LeaveTimerSettings:
    waiting_room_s: float = 600.0
    no_one_joined_s: float = 900.0
    everyone_left_s: float = 60.0
    silence_s: float = 1800.0
    silence_warmup_s: float = 1200.0
    max_duration_s: float = 4 * 3600.0
    # Not a reason to leave: how long a meeting page may show a screen its selector pack
    # does not explain before the bot saves diagnostics of it.
    unexplained_screen_s: float = 30.0


@dataclass
class Settings:
    bot_name: str = DEFAULT_BOT_NAME
    language: str = "en"
    model: str = "tiny.en"
    device: str = "cpu"            # cpu | cuda | auto
    compute_type: str = "int8"
    # Names and terms whisper should spell right (products, people, jargon), in every
    # session; a session adds its own in metadata.vocabulary.
    vocabulary: list[str] = field(default_factory=list)
    # The after-meeting pass (app/refine.py): on by default, with its own model ("auto":
    # the best installed one that is fast enough, recorder/refine_models.py).
    refine_after_session: bool = True
    refine_model: str = "auto"
    # Meeting notes (app/notes/): made once the transcript is final when notes_auto is on, by
    # a local model ("auto": the installed one), an Ollama server or an OpenAI-compatible
    # endpoint (its key lives in the keyring: app.secrets.openai_key).
    notes_auto: bool = True
    notes_backend: str = "local"   # local | ollama | openai
    notes_model: str = "auto"      # the local model: auto, recommended, or a .gguf file
    ollama_url: str = "http://127.0.0.1:11434"
    ollama_model: str = ""
    openai_url: str = ""
    openai_model: str = ""
    data_dir: str | None = None    # None: the platform default (or MEETING_BUDDY_DATA_DIR)
    segment_seconds: float = 300.0
    screen_capture: bool = True
    screen_fps: float = 5.0
    screen_max_width: int = 1280
    screen_max_height: int = 720
    bot_audio: str = "page"        # "page" (in-page capture) or a device name
    mic_device: str | None = None
    system_device: str | None = None
    timers: LeaveTimerSettings = field(default_factory=LeaveTimerSettings)
    api_enabled: bool = False
    api_port: int = 8765
    remote_url: str | None = None
    sync_enabled: bool = False

    def validate(self) -> Settings:
        if not self.bot_name.strip() or len(self.bot_name) > 100:
            raise ValidationError("bot_name must be 1 to 100 characters", field="bot_name")
        if not 10 <= self.segment_seconds <= 3600:
            raise ValidationError("segment_seconds must be between 10 and 3600", field="segment_seconds")
        if not 0.5 <= self.screen_fps <= 30:
            raise ValidationError("screen_fps must be between 0.5 and 30", field="screen_fps")
        if not 1 <= self.api_port <= 65535:
            raise ValidationError("api_port must be a TCP port", field="api_port")
        if self.device not in ("cpu", "cuda", "auto"):
            raise ValidationError("device must be cpu, cuda or auto", field="device")
        try:
            self.vocabulary = list(clean_vocabulary(self.vocabulary, strict=True))
        except VocabularyError as exc:
            raise ValidationError(str(exc), field="vocabulary") from exc
        if not self.refine_model.strip():
            raise ValidationError("refine_model must name a model, a model folder or auto",
                                  field="refine_model")
        if self.notes_backend not in NOTES_BACKENDS:
            raise ValidationError(f"notes_backend must be one of {', '.join(NOTES_BACKENDS)}", field="notes_backend")
        if not self.notes_model.strip():
            raise ValidationError("notes_model must name a model file, recommended or auto", field="notes_model")
        for name in ("ollama_url", "openai_url"):
            url = getattr(self, name).strip()
            if url and not url.startswith(("http://", "https://")):
                raise ValidationError(f"{name} must be an http:// or https:// address", field=name)
        for f in fields(LeaveTimerSettings):
            if getattr(self.timers, f.name) <= 0:
                raise ValidationError(f"{f.name} must be positive", field=f"timers.{f.name}")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        timers = values.pop("timers", {}) or {}
        timer_names = {f.name for f in fields(LeaveTimerSettings)}
        return cls(**values, timers=LeaveTimerSettings(
            **{k: float(v) for k, v in timers.items() if k in timer_names}))


def settings_path() -> Path:
    return config_dir() / SETTINGS_FILE


def load_settings(path: Path | None = None) -> Settings:
    path = path or settings_path()
    if not path.exists():
        return Settings()
    try:
        return Settings.from_dict(json.loads(path.read_text("utf-8"))).validate()
    except (ValueError, TypeError, ValidationError) as exc:
        # Keep the broken file for the user to inspect; run on defaults.
        backup = path.with_suffix(".json.invalid")
        os.replace(path, backup)
        log.warning("Settings file %s was invalid (%s); kept as %s, using defaults", path, exc, backup)
        return Settings()


def save_settings(settings: Settings, path: Path | None = None) -> None:
    settings.validate()
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(settings.to_dict(), indent=2), "utf-8")
    os.replace(tmp, path)
