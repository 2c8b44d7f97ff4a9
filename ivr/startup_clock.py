"""How long this process has been alive: the controller logs its time to adoption from the process start
(interpreter and imports included), which is what a caller waiting on a restarted controller lives through.

Linux gives the start in ``/proc/self/stat`` (``starttime``: clock ticks since boot, on the
``CLOCK_BOOTTIME`` clock); elsewhere, or when it cannot be read, the moment this module was imported
stands in (a little late: it misses the interpreter's own start).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

_IMPORTED_AT = time.monotonic()


def start_ticks(stat_line: str) -> int:
    """Field 22 (``starttime``) of a ``/proc/<pid>/stat`` line. The command name (field 2) is in
    parentheses and may itself hold spaces or parentheses, so fields are counted after its last ``)``."""
    rest = stat_line[stat_line.rindex(")") + 1 :].split()
    return int(rest[19])  # rest[0] is field 3 (state): starttime, field 22, is rest[19]


def age_s(boottime_now_s: float, start_ticks_: int, ticks_per_s: int) -> float:
    """Seconds a process has lived, from the boot clock now and its start in ticks since boot."""
    return max(0.0, boottime_now_s - start_ticks_ / ticks_per_s)


def seconds_since_start() -> float:
    """Seconds since this process started (10 ms resolution on Linux)."""
    try:
        ticks = start_ticks(Path("/proc/self/stat").read_text())
        return age_s(time.clock_gettime(time.CLOCK_BOOTTIME), ticks, os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _IMPORTED_AT
