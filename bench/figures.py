"""What a benchmark reports: figures (samples with median, p95 and the target they are held
to), the mode it ran in, and the JSON form of both."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

STATS = ("median", "p95", "p99", "min", "max", "mean")
MODES = ("full", "quick", "smoke")


@dataclass(frozen=True)
class Mode:
    """How long and how big a run is: `full` for the real numbers, `quick` for a look in
    under three minutes, `smoke` only proves the harness works (its numbers mean nothing)."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in MODES:
            raise ValueError(f"unknown mode {self.name!r}; one of {', '.join(MODES)}")

    def pick(self, *, full: Any, quick: Any, smoke: Any = None) -> Any:
        if self.name == "full":
            return full
        if self.name == "smoke" and smoke is not None:
            return smoke
        return quick

    @property
    def full(self) -> bool:
        return self.name == "full"


@dataclass(frozen=True)
class Limit:
    """One condition of a target, e.g. median <= 2.0."""

    stat: str
    op: str  # "<=" or ">="
    value: float

    def __post_init__(self) -> None:
        if self.stat not in STATS or self.op not in ("<=", ">="):
            raise ValueError(f"bad limit {self.stat} {self.op} {self.value}")

    def holds(self, stats: dict[str, float]) -> bool:
        got = stats[self.stat]
        return got <= self.value if self.op == "<=" else got >= self.value

    def describe(self) -> str:
        return f"{self.stat} {self.op} {self.value:g}"


def at_most(**limits: float) -> tuple[Limit, ...]:
    return tuple(Limit(stat, "<=", value) for stat, value in limits.items())


def at_least(**limits: float) -> tuple[Limit, ...]:
    return tuple(Limit(stat, ">=", value) for stat, value in limits.items())


def summarize(samples: list[float]) -> dict[str, float]:
    """Median, percentiles (linear interpolation), min, max and mean of the samples."""
    values = np.asarray(samples, dtype=float)
    if values.size == 0:
        return {}
    median, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"median": float(median), "p95": float(p95), "p99": float(p99),
            "min": float(values.min()), "max": float(values.max()), "mean": float(values.mean())}


@dataclass
class Figure:
    """One measured quantity over its samples (runs, sentences, requests or windows: `note`
    says which). `summary_keys` names how it appears in the JSON summary."""

    name: str
    unit: str
    samples: list[float]
    limits: tuple[Limit, ...] = ()
    note: str = ""
    summary_keys: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.samples = [float(s) for s in self.samples]
        if any(not math.isfinite(s) for s in self.samples):
            raise ValueError(f"{self.name}: samples must be finite numbers")
        if not self.summary_keys:
            self.summary_keys = {self.name: "median"}

    @property
    def stats(self) -> dict[str, float]:
        return summarize(self.samples)

    @property
    def met(self) -> bool | None:
        """Whether every limit holds; None without a target or without samples."""
        if not self.limits or not self.samples:
            return None
        stats = self.stats
        return all(limit.holds(stats) for limit in self.limits)

    @property
    def target(self) -> str:
        return ", ".join(limit.describe() for limit in self.limits)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "unit": self.unit, "n": len(self.samples), **self.stats,
                "samples": self.samples, "target": self.target or None, "met": self.met,
                "note": self.note, "summary_keys": self.summary_keys}


@dataclass
class BenchResult:
    figures: list[Figure]
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"figures": [f.to_dict() for f in self.figures], "details": self.details}
