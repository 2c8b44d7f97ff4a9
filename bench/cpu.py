"""CPU time of a process tree from ``/proc``: utime + stime deltas over wall time, in cores.

Parsing is pure (``parse_stat``, ``cores``); ``tree_ticks`` and ``CpuProbe`` read ``/proc``.
A whole tree is counted because a process we start may be a wrapper (``unshare`` → ``chroot`` →
``asterisk``) or may run helper children; threads are already inside their process's counters.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


@dataclass(frozen=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` the benchmark needs (times in clock ticks)."""

    pid: int
    comm: str
    ppid: int
    utime: int
    stime: int

    @property
    def ticks(self) -> int:
        return self.utime + self.stime


def parse_stat(text: str) -> ProcStat:
    """Parse one ``/proc/<pid>/stat`` line; ``comm`` may hold spaces and parentheses."""
    open_at, close_at = text.find("("), text.rfind(")")
    if open_at < 0 or close_at < open_at:
        raise ValueError(f"not a /proc stat line: {text[:80]!r}")
    pid = int(text[:open_at].strip())
    rest = text[close_at + 1 :].split()
    # rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15 (man 5 proc)
    if len(rest) < 13:
        raise ValueError(f"truncated /proc stat line: {text[:80]!r}")
    return ProcStat(
        pid=pid,
        comm=text[open_at + 1 : close_at],
        ppid=int(rest[1]),
        utime=int(rest[11]),
        stime=int(rest[12]),
    )


def cores(ticks_before: int, ticks_after: int, wall_s: float, *, hz: int = CLOCK_TICKS) -> float:
    """Average cores used between two readings ``wall_s`` seconds apart."""
    if wall_s <= 0:
        return 0.0
    return max(0, ticks_after - ticks_before) / hz / wall_s


def descendants(root: int, stats: list[ProcStat]) -> set[int]:
    """``root`` and every process below it in ``stats`` (pure: the tree from ppid links)."""
    children: dict[int, list[int]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat.pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo.extend(children.get(pid, ()))
    return found


def read_all_stats(proc: Path = PROC) -> list[ProcStat]:
    out: list[ProcStat] = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            out.append(parse_stat((entry / "stat").read_text()))
        except (OSError, ValueError):
            continue  # the process ended while we looked
    return out


@dataclass
class _Tree:
    root: int
    seen: dict[int, int]  # pid → last ticks (a child that ends takes its ticks with it)
    total: int = 0


class CpuProbe:
    """Cores used by named process trees between successive ``sample()`` calls.

    A process that exits between two samples loses the ticks it used since the last sample;
    the benchmark samples every second, so that error is small.
    """

    def __init__(self, roots: dict[str, int]) -> None:
        self._trees = {name: _Tree(root=pid, seen={}) for name, pid in roots.items()}
        self._last = time.monotonic()
        self._read()

    def _read(self) -> None:
        stats = read_all_stats()
        by_pid = {s.pid: s for s in stats}
        for tree in self._trees.values():
            pids = descendants(tree.root, stats)
            for pid in pids:
                ticks = by_pid[pid].ticks if pid in by_pid else 0
                tree.total += max(0, ticks - tree.seen.get(pid, ticks))
                tree.seen[pid] = ticks
            for gone in set(tree.seen) - pids:
                del tree.seen[gone]

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds per tree since construction (up to the last ``sample()``)."""
        return {name: tree.total / CLOCK_TICKS for name, tree in self._trees.items()}

    def sample(self) -> dict[str, float]:
        """Cores per tree since the previous call (or construction)."""
        before = {name: tree.total for name, tree in self._trees.items()}
        self._read()
        now = time.monotonic()
        wall, self._last = now - self._last, now
        return {name: cores(before[name], tree.total, wall) for name, tree in self._trees.items()}


def quiet(history: list[float], *, below: float, seconds: int) -> bool:
    """True when the last ``seconds`` one-second samples (cores) are all below ``below``: a process
    that has finished its warm-up (models loaded, prompts synthesised) and waits for calls."""
    return seconds > 0 and len(history) >= seconds and all(c < below for c in history[-seconds:])
