"""Which model the after-meeting pass uses when its setting says "auto".

The rule: the most accurate installed model that transcribes a 1-hour meeting within 20
minutes on 2 CPU cores, i.e. whose wall-clock real-time factor there is at most 1/3.
Live and after-meeting transcription choose their models independently: live must keep up
with speech on every pass, the after-meeting pass reads each window once and may take a
bigger model.
"""
from __future__ import annotations

from collections.abc import Iterable

from recorder.whisper_models import ModelState, is_english, model_states

AUTO = "auto"
DEADLINE_RTF = 20 / 60  # a 1-hour meeting within 20 minutes

# Wall seconds per audio second of the after-meeting pass (beam 5, VAD, word timestamps,
# int8) on 2 cores of the reference machine (Intel Xeon, 2 vCPUs): `python -m bench.run
# --only refine`, figures `refine_rtf_<model>` over 306 s of speech. tiny.en and base are the
# models installed there; with other work loading the machine four times over, 0.12 and 0.21.
MEASURED_RTF_2_CORES: dict[str, float] = {"tiny.en": 0.060, "base": 0.102}
# Not installed on the reference machine, so not measured: base's figure scaled by the
# model's size (parameters: tiny 39 M, base 74 M, small 244 M, medium 769 M, large 1550 M;
# distil-large-v3 keeps large's encoder). A measurement replaces an estimate.
_SIZE_VS_BASE = {"tiny": 39 / 74, "base": 1.0, "small": 244 / 74, "medium": 769 / 74, "large-v3": 1550 / 74,
                 "distil-large-v3": 1100 / 74}
# Most accurate first: a bigger model before a smaller one, English-only before its
# multilingual twin (on English it is the better of the two).
QUALITY_ORDER = ("large-v3", "distil-large-v3", "medium.en", "medium", "small.en", "small", "base.en", "base",
                 "tiny.en", "tiny")


def expected_rtf(name: str) -> float:
    """The after-meeting pass's real-time factor of `name` on 2 cores: measured, else estimated."""
    if name in MEASURED_RTF_2_CORES:
        return MEASURED_RTF_2_CORES[name]
    return MEASURED_RTF_2_CORES["base"] * _SIZE_VS_BASE[name.removesuffix(".en")]


def choose_refine_model(language: str = "en", states: Iterable[ModelState] | None = None) -> str:
    """The model the rule picks for a session in `language` among the installed ones; tiny.en
    (English) or base when none qualifies, as model resolution then explains."""
    installed = {state.name: state for state in (model_states() if states is None else states) if state.installed}
    for name in QUALITY_ORDER:
        state = installed.get(name)
        if state is None or not (state.multilingual or is_english(language)):
            continue
        if expected_rtf(name) <= DEADLINE_RTF:
            return name
    return "tiny.en" if is_english(language) else "base"
