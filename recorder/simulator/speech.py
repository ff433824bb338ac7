"""Speech for simulated participants: espeak-ng renders each (voice, text) once into a WAV
file in a cache folder, named by a hash of what was said, so pages can fetch it by key."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

import platformdirs

WORDS_PER_MINUTE = 150
_KEY_RE = re.compile(r"[0-9a-f]{32}")
_TIMEOUT_S = 60


class SpeechError(RuntimeError):
    """espeak-ng is missing or could not render a line."""


@dataclass(frozen=True)
class SpeechClip:
    key: str
    path: Path
    duration_s: float


def speech_key(voice: str, text: str) -> str:
    digest = hashlib.sha256(f"espeak-ng\0{voice}\0{WORDS_PER_MINUTE}\0{text}".encode())
    return digest.hexdigest()[:32]


def default_cache_dir() -> Path:
    return Path(platformdirs.user_cache_dir("meeting-buddy")) / "simulator-speech"


class SpeechLibrary:
    """Renders and finds speech clips; safe to use from several server threads."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self._lock = threading.Lock()

    def render(self, voice: str, text: str) -> SpeechClip:
        key = speech_key(voice, text)
        path = self.cache_dir / f"{key}.wav"
        with self._lock:
            if not path.is_file():
                self._synthesize(voice, text, path)
        return SpeechClip(key, path, wav_duration(path))

    def path_for(self, key: str) -> Path | None:
        """The cached clip with this key, or None (also for anything that is not a key)."""
        if not _KEY_RE.fullmatch(key):
            return None
        path = self.cache_dir / f"{key}.wav"
        return path if path.is_file() else None

    def _synthesize(self, voice: str, text: str, path: Path) -> None:
        espeak = shutil.which("espeak-ng")
        if espeak is None:
            raise SpeechError("espeak-ng is not installed; the meeting simulator needs it for speech")
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        # Rendered beside the target and renamed, so a reader never sees half a file.
        fd, tmp_name = tempfile.mkstemp(suffix=".wav.part", dir=self.cache_dir)
        os.close(fd)
        try:
            result = subprocess.run(
                [espeak, "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", tmp_name, "--", text],
                capture_output=True, text=True, timeout=_TIMEOUT_S, check=False,
            )
            if result.returncode != 0 or os.path.getsize(tmp_name) <= 44:
                detail = (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
                raise SpeechError(f"espeak-ng could not say {text[:40]!r} with voice {voice!r}: {detail}")
            os.replace(tmp_name, path)
        except subprocess.TimeoutExpired:
            raise SpeechError(f"espeak-ng took longer than {_TIMEOUT_S} s for {text[:40]!r}") from None
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())
