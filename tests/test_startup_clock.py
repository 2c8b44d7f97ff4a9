from __future__ import annotations

import os
import time

import pytest

from ivr.startup_clock import age_s, seconds_since_start, start_ticks

# A /proc/<pid>/stat line whose command name holds spaces and parentheses; starttime (field 22) = 777.
STAT = "4242 (ivr (serve) x) S 1 4242 4242 0 -1 4194560 9 0 0 0 3 1 0 0 20 0 1 0 777 1000 50 1844674407"


def test_start_ticks_counts_fields_after_the_last_parenthesis() -> None:
    assert start_ticks(STAT) == 777


def test_start_ticks_of_a_truncated_line_is_an_error() -> None:
    with pytest.raises(IndexError):
        start_ticks("4242 (ivr) S 1 2 3")


def test_age_is_the_boot_clock_minus_the_start() -> None:
    assert age_s(20.0, 777, 100) == pytest.approx(12.23)
    assert age_s(7.0, 777, 100) == 0.0  # never negative


def test_this_process_is_older_than_a_child_started_now() -> None:
    if not os.path.exists("/proc/self/stat"):
        pytest.skip("no /proc")  # strict-skip: not Linux
    lived = seconds_since_start()
    assert 0.0 < lived < time.monotonic() + 1  # a real, bounded age
    assert seconds_since_start() >= lived
