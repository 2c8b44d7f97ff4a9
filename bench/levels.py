"""The concurrency ramp as plain data: which levels, how many calls at what rate, when to stop."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

DEFAULT_LEVELS = (25, 50, 100, 150, 200, 300, 400, 600)
QUICK_LEVELS = (10, 25)
QUICK_CALLS = 20
PLATEAU_SHARE = 0.9
"""A one-second sample counts as "at the level" when this share of the level's calls is open."""


def parse_levels(text: str) -> tuple[int, ...]:
    """``"25,50,100"`` → (25, 50, 100); ascending, positive, no duplicates, or ValueError."""
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise ValueError(f"--levels must be comma-separated whole numbers, got {text!r}") from None
    if not levels:
        raise ValueError("--levels needs at least one concurrency level")
    if any(level < 1 for level in levels):
        raise ValueError(f"--levels must all be at least 1, got {text!r}")
    if list(levels) != sorted(set(levels)):
        raise ValueError(f"--levels must be strictly ascending, got {text!r}")
    return levels


@dataclass(frozen=True)
class LevelPlan:
    """One SIPp run: ``calls`` calls at ``rate``/s, at most ``concurrency`` open at once."""

    concurrency: int
    calls: int
    rate: float

    @property
    def timeout_s(self) -> float:
        """SIPp's overall deadline: placing every call at the rate, twice over, plus a minute."""
        return 2 * self.calls / self.rate + 60


def plan_level(concurrency: int, *, call_s: float, calls: int | None = None) -> LevelPlan:
    """A plan that really reaches ``concurrency`` open calls for about one call length.

    Calls last ``call_s``; arriving at ``rate`` they pile up to ``rate * call_s``, so the rate is
    set 25 % above ``concurrency / call_s`` and SIPp's ``-l`` caps the open calls. Without an
    explicit count, two calls per slot keep the level full for about one call length; a count
    below ``concurrency`` could never fill the level, so it is raised to ``concurrency``.
    """
    if concurrency < 1 or call_s <= 0:
        raise ValueError("concurrency must be >= 1 and call_s > 0")
    wanted = 2 * concurrency if calls is None else max(calls, concurrency)
    rate = max(1.0, math.ceil(1.25 * concurrency / call_s))
    return LevelPlan(concurrency=concurrency, calls=wanted, rate=rate)


@dataclass
class LevelResult:
    """What one level did on one target. ``failed`` counts every call that did not succeed in
    SIPp (failed, timed out or still open at the end); ``unverified`` counts calls SIPp saw
    succeed whose read-back could not be confirmed on the IVR side."""

    target: str
    plan: LevelPlan
    successful: int = 0
    failed: int = 0
    verified: int = 0
    checked: int = 0
    unverified: int = 0
    peak_open: int = 0
    elapsed_s: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    """Mean cores per process while the level was full (``asterisk``, ``controller``, ``sipp``)."""
    cpu_s: dict[str, float] = field(default_factory=dict)
    """CPU seconds per process over the whole level (ramp up and down included)."""
    plateau_calls: float = 0.0
    """Mean open calls over the samples that counted for ``cpu``."""
    p50_ms: float | None = None
    p99_ms: float | None = None
    latency_samples: int = 0
    note: str = ""

    @property
    def clean(self) -> bool:
        return self.failed == 0 and self.unverified == 0 and self.successful == self.plan.calls

    def cores_per_call(self, *names: str) -> float | None:
        """Cores per open call for the named processes together (None without a plateau)."""
        if self.plateau_calls <= 0 or not all(n in self.cpu for n in names):
            return None
        return sum(self.cpu[n] for n in names) / self.plateau_calls

    def cpu_ms_per_call(self, *names: str) -> float | None:
        """CPU milliseconds the named processes spent per successful call over the whole level."""
        if self.successful <= 0 or not all(n in self.cpu_s for n in names):
            return None
        return sum(self.cpu_s[n] for n in names) * 1000 / self.successful


def should_continue(results: Sequence[LevelResult]) -> bool:
    """Ramp on while every level so far was clean (stop at the first level with failures)."""
    return all(result.clean for result in results)


def highest_clean(results: Sequence[LevelResult]) -> int | None:
    """The highest concurrency reached with zero failures before the first failing level."""
    best: int | None = None
    for result in results:
        if not result.clean:
            break
        best = result.plan.concurrency
    return best


@dataclass(frozen=True)
class CpuSample:
    open_calls: int
    cores: dict[str, float]


def plateau_cpu(samples: Sequence[CpuSample], concurrency: int) -> tuple[dict[str, float], float]:
    """Mean cores per process and mean open calls over the samples taken while the level was full.

    Falls back to every sample with at least one open call when the level never filled (the
    result then says less, and the table shows the peak that was reached).
    """
    full = [s for s in samples if s.open_calls >= PLATEAU_SHARE * concurrency]
    chosen = full or [s for s in samples if s.open_calls > 0]
    if not chosen:
        return {}, 0.0
    names = sorted({name for s in chosen for name in s.cores})
    cpu = {name: sum(s.cores.get(name, 0.0) for s in chosen) / len(chosen) for name in names}
    return cpu, sum(s.open_calls for s in chosen) / len(chosen)
