"""Memory and open file descriptors of a process tree over time, and their trend (least squares).

``slope_per_hour`` and ``rss_kib`` are pure; ``TreeSample``/``sample_tree`` read ``/proc``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.cpu import PROC, descendants, read_all_stats


def slope_per_hour(times_s: Sequence[float], values: Sequence[float]) -> float | None:
    """The least-squares slope of ``values`` over ``times_s`` (seconds), per hour; None with < 3 points
    or no spread in time."""
    if len(times_s) != len(values):
        raise ValueError("times and values differ in length")
    if len(times_s) < 3 or max(times_s) - min(times_s) <= 0:
        return None
    slope, _ = np.polyfit(np.asarray(times_s, dtype=float), np.asarray(values, dtype=float), 1)
    return float(slope) * 3600.0


def rss_kib(status_text: str) -> int:
    """``VmRSS`` of a ``/proc/<pid>/status`` text, in KiB (0 when absent: a zombie or kernel thread)."""
    for line in status_text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


@dataclass(frozen=True)
class TreeSample:
    rss_kib: int
    fds: int


def sample_tree(root: int, proc: Path = PROC) -> TreeSample:
    """Resident memory and open fds summed over ``root`` and its descendants (gone processes skipped)."""
    rss = fds = 0
    for pid in descendants(root, read_all_stats(proc)):
        with contextlib.suppress(OSError):
            rss += rss_kib((proc / str(pid) / "status").read_text())
            fds += len(os.listdir(proc / str(pid) / "fd"))
    return TreeSample(rss, fds)


@dataclass
class Series:
    """Samples of one process tree: time (s from the start), RSS (KiB), open fds."""

    name: str
    times_s: list[float]
    rss_kib: list[int]
    fds: list[int]

    def add(self, at_s: float, sample: TreeSample) -> None:
        self.times_s.append(at_s)
        self.rss_kib.append(sample.rss_kib)
        self.fds.append(sample.fds)

    def second_half(self) -> Series:
        """The samples of the run's second half: the steady state, after models and prompts loaded."""
        if not self.times_s:
            return self
        middle = (self.times_s[0] + self.times_s[-1]) / 2
        keep = [i for i, t in enumerate(self.times_s) if t >= middle]
        return Series(
            self.name,
            [self.times_s[i] for i in keep],
            [self.rss_kib[i] for i in keep],
            [self.fds[i] for i in keep],
        )

    def csv(self) -> str:
        """The samples as CSV (seconds, RSS KiB, open fds), for a closer look after a run."""
        rows = ["seconds,rss_kib,fds"]
        rows += [f"{t:.1f},{r},{f}" for t, r, f in zip(self.times_s, self.rss_kib, self.fds, strict=True)]
        return "\n".join(rows) + "\n"

    def describe(self) -> str:
        if not self.times_s:
            return f"{self.name}: no samples"
        steady = self.second_half()
        steady_rss = slope_per_hour(steady.times_s, steady.rss_kib)
        steady_fds = slope_per_hour(steady.times_s, steady.fds)
        rss = slope_per_hour(self.times_s, self.rss_kib)
        fds = slope_per_hour(self.times_s, self.fds)
        rss_text = "–" if rss is None else f"{round(rss / 1024, 1) + 0.0:+.1f} MiB/h"  # no "-0.0"
        fds_text = "–" if fds is None else f"{round(fds, 1) + 0.0:+.1f} fds/h"
        return (
            f"{self.name}: RSS {self.rss_kib[0] / 1024:.0f} → {self.rss_kib[-1] / 1024:.0f} MiB "
            f"(max {max(self.rss_kib) / 1024:.0f}), slope {rss_text}; open fds {self.fds[0]} → "
            f"{self.fds[-1]} (max {max(self.fds)}), slope {fds_text}; {len(self.times_s)} samples "
            f"over {self.times_s[-1] - self.times_s[0]:.0f} s; second half (steady state): RSS "
            f"{_per_hour(steady_rss, 'MiB/h', 1024)}, fds {_per_hour(steady_fds, 'fds/h', 1)}"
        )


def _per_hour(slope: float | None, unit: str, scale: float) -> str:
    return "–" if slope is None else f"{round(slope / scale, 1) + 0.0:+.1f} {unit}"  # no "-0.0"
