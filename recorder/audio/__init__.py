"""Audio sources: the meeting page, input devices, mixes of them, and files.

Names are imported on first use, so that page and file audio work on a machine without
PortAudio (which only device capture needs).
"""
from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "SAMPLE_RATE": "base",
    "AudioCaptureError": "base",
    "AudioChunk": "base",
    "AudioSource": "base",
    "AudioDevice": "device",
    "DeviceAudioSource": "device",
    "list_input_devices": "device",
    "FileAudioSource": "file",
    "MixAudioSource": "mix",
    "PageAudioSource": "page",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
