"""The scripts injected into the meeting page, built from resources/bot/ and a selector pack.

Two scripts, both at DocumentCreation (before the page's own code):
- the audio tap, in the main world of every frame (it must wrap the page's RTCPeerConnection);
- the bridge, in the isolated ApplicationWorld of the top frame: qwebchannel.js, the page
  driver and the bridge proper. Only this world holds the QWebChannel.
The two talk through CustomEvents whose names are per-session secrets (frames that are not
same-origin post signed messages instead).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from PySide6.QtCore import QFile, QIODevice
from PySide6.QtWebEngineCore import QWebEngineScript

from recorder.bot.assets import BOT_SCRIPTS, read_text
from recorder.bot.pcm import SAMPLE_RATE
from recorder.bot.selector_pack import SelectorPack

BRIDGE_OBJECT = "meetingBuddyBot"
CHUNK_SAMPLES = SAMPLE_RATE // 10      # 100 ms per chunk
TICK_MS = 400                          # page observer period
HEARTBEAT_MS = 2000                    # an unchanged state is still reported this often, so a
                                       # click the page ignored is tried again
MAX_QUEUED = 400                       # page messages held until the channel is up
# What the page may send: a 100 ms chunk is ~4.3k characters of base64; logs are short.
LIMITS = {"audioChars": 64_000, "audioPerSecond": 40, "logChars": 500, "logsPerSecond": 10,
          "stateChars": 512_000}
DROP_REPORT_MS = 5000


@dataclass(frozen=True)
class PageScripts:
    tap: QWebEngineScript
    bridge: QWebEngineScript


def _qwebchannel_js() -> str:
    f = QFile(":/qtwebchannel/qwebchannel.js")
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):
        raise RuntimeError("qwebchannel.js is missing from the Qt resources")
    try:
        return bytes(f.readAll().data()).decode("utf-8")
    finally:
        f.close()


def _call(path: str, config: dict) -> str:
    """A resources/bot script (a parenthesised function expression) applied to its config."""
    source = read_text(BOT_SCRIPTS / path).rstrip().rstrip(";")
    return f"{source}({json.dumps(config)});\n"


def _script(name: str, source: str, world: QWebEngineScript.ScriptWorldId, subframes: bool) -> QWebEngineScript:
    script = QWebEngineScript()
    script.setName(name)
    script.setSourceCode(source)
    script.setWorldId(world)
    script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    script.setRunsOnSubFrames(subframes)
    return script


def build_page_scripts(pack: SelectorPack) -> PageScripts:
    # Independent secrets: a name the page might see (the worklet processor's, the prefix of
    # messages posted by a cross-origin frame) gives away nothing about the others, and the
    # signing key never leaves the two scripts.
    events = {
        "audioEvent": f"mb-audio-{secrets.token_hex(16)}",
        "logEvent": f"mb-log-{secrets.token_hex(16)}",
        "messagePrefix": f"mb-{secrets.token_hex(8)}:",
        "signingKey": secrets.token_hex(32),
    }
    prefer, fallback_s = pack.preferred_audio_stream or ("", 0.0)
    tap = _call("audio_tap.js", {**events, "sampleRate": SAMPLE_RATE, "chunkSamples": CHUNK_SAMPLES,
                                 "processorName": f"mb-tap-{secrets.token_hex(8)}", "preferStream": prefer,
                                 "preferFallbackMs": round(fallback_s * 1000)})
    bridge = "\n".join([
        _qwebchannel_js(),
        read_text(BOT_SCRIPTS / "page_driver.js"),
        _call("bridge.js", {**events, "objectName": BRIDGE_OBJECT, "tickMs": TICK_MS,
                            "heartbeatMs": HEARTBEAT_MS, "maxQueued": MAX_QUEUED, "limits": LIMITS,
                            "dropReportMs": DROP_REPORT_MS, "pack": pack.data}),
    ])
    return PageScripts(
        tap=_script("meeting-buddy-audio-tap", tap, QWebEngineScript.ScriptWorldId.MainWorld, True),
        bridge=_script("meeting-buddy-bridge", bridge, QWebEngineScript.ScriptWorldId.ApplicationWorld, False),
    )
