"""Controller latency: time from an ARI event's arrival to the first command it caused."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class LatencyStats:
    """A ring buffer of event → command latencies in seconds."""

    size: int = 20000
    samples: deque[float] = field(default_factory=deque)
    events: int = 0
    calls_started: int = 0
    calls_active: int = 0

    def add(self, seconds: float) -> None:
        if len(self.samples) >= self.size:
            self.samples.popleft()
        self.samples.append(seconds)

    def percentile(self, pct: float) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
        return ordered[index]

    def snapshot(self) -> dict[str, float | int | None]:
        p50 = self.percentile(50)
        p99 = self.percentile(99)
        return {
            "events": self.events,
            "calls_started": self.calls_started,
            "calls_active": self.calls_active,
            "latency_samples": len(self.samples),
            "event_to_command_p50_ms": None if p50 is None else round(p50 * 1000, 3),
            "event_to_command_p99_ms": None if p99 is None else round(p99 * 1000, 3),
        }
