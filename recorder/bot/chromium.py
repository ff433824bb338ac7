"""Process-wide QtWebEngine set-up; must run before the QApplication is created.

What the meeting pages see of the browser (docs/PLATFORMS.md, "Every platform"): a current
desktop Chrome that speaks US English, does not announce automation, and has a microphone —
Chromium's fake capture device fed from a file of silence, so the bot can grant the
microphone permission the web clients need before they play remote audio, without any real
device being opened and without a sound ever reaching the meeting.
"""
from __future__ import annotations

import logging
import os
import re
import tempfile
import wave
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt

_log = logging.getLogger(__name__)

_FLAGS = "QTWEBENGINE_CHROMIUM_FLAGS"
_RULES_FLAG = re.compile(r'--host-resolver-rules=("[^"]*"|\S+)')

# A current desktop Chrome on this OS (Chromium under QtWebEngine would otherwise name
# itself and an older Chrome, which platforms turn away).
CHROME_VERSION = "156.0.0.0"
CHROME_USER_AGENT = (f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     f"Chrome/{CHROME_VERSION} Safari/537.36")
ACCEPT_LANGUAGE = "en-US,en"   # the selector packs hold English screen texts


def silent_microphone_file() -> Path:
    """One second of 48 kHz silence that Chromium's fake microphone plays in a loop."""
    folder = Path(tempfile.gettempdir()) / f"meeting-buddy-{os.getuid() if hasattr(os, 'getuid') else 0}"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / "silence-48k.wav"
    if not path.is_file() or path.stat().st_size < 96_000:
        partial = path.with_suffix(".partial")
        with wave.open(str(partial), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(48_000)
            out.writeframes(bytes(96_000))
        partial.replace(path)
    return path


def browser_flags() -> list[str]:
    """Chromium flags every bot page runs with."""
    return [
        "--log-level=3",   # Chromium's own ERROR lines mean nothing to a user
        "--lang=en-US",
        "--disable-blink-features=AutomationControlled",
        # Media capture never opens a real device: the microphone is the silent file, the
        # camera Chromium's test pattern (the bot never grants the camera).
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={silent_microphone_file()}",
        # The page draws in software, as production meeting bots run it: drawn through OpenGL,
        # the window's thread waits on the renderer's threads at each frame, and those
        # starve while the meeting is transcribed (or a page burns the CPU).
        "--disable-gpu",
    ]


def prepare_qtwebengine_environment(host_resolver_rules: str | None = None) -> None:
    """Set the environment QtWebEngine reads at start-up.

    `host_resolver_rules` (e.g. "MAP teams.microsoft.com 127.0.0.1:8443") sends meeting hosts
    to the local simulator in demo and test runs; the page keeps its real address, so the bot
    runs the same code as in production. Chromium reads the flag only from this variable,
    and only the quoted form works.
    """
    current = os.environ.get(_FLAGS, "").split()
    named = {flag.split("=", 1)[0] for flag in current}
    os.environ[_FLAGS] = " ".join([*current, *(f for f in browser_flags() if f.split("=", 1)[0] not in named)])
    if host_resolver_rules:
        if '"' in host_resolver_rules:
            raise ValueError("host resolver rules must not contain double quotes")
        others = _RULES_FLAG.sub("", os.environ.get(_FLAGS, "")).split()
        os.environ[_FLAGS] = " ".join([*others, f'--host-resolver-rules="{host_resolver_rules}"'])
    # The view shows the page's frames without OpenGL either (see --disable-gpu above).
    os.environ.setdefault("QT_QUICK_BACKEND", "software")
    # QtWebEngine's widgets share OpenGL contexts; Qt requires saying so before the app exists.
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and os.environ.get("QTWEBENGINE_DISABLE_SANDBOX") != "1":
        # Chromium refuses to start its sandbox as root (containers, CI).
        os.environ["QTWEBENGINE_DISABLE_SANDBOX"] = "1"
        _log.warning("running as root: the browser sandbox is disabled (QTWEBENGINE_DISABLE_SANDBOX=1)")
