from __future__ import annotations

import os

import pytest

from bench.cpu import ProcStat, cores, descendants, parse_stat, read_all_stats

LINE = (
    "4242 (ivr (serve) x) S 4200 4242 4242 0 -1 4194560 1234 0 0 0 "
    "150 30 0 0 20 0 5 0 12345 1000000 2000 18446744073709551615"
)


def test_parse_stat_reads_times_past_a_comm_with_spaces_and_parentheses() -> None:
    stat = parse_stat(LINE)
    assert stat == ProcStat(pid=4242, comm="ivr (serve) x", ppid=4200, utime=150, stime=30)
    assert stat.ticks == 180


@pytest.mark.parametrize("text", ["", "12 nothing here", "12 (x) S 1 2"])
def test_parse_stat_rejects_what_is_not_a_stat_line(text: str) -> None:
    with pytest.raises(ValueError):
        parse_stat(text)


def test_cores_is_cpu_seconds_over_wall_seconds() -> None:
    assert cores(100, 300, 2.0, hz=100) == 1.0
    assert cores(100, 150, 1.0, hz=100) == 0.5
    assert cores(300, 100, 1.0, hz=100) == 0.0  # a counter never runs backwards
    assert cores(0, 100, 0.0, hz=100) == 0.0


def test_descendants_follow_ppid_links_only_below_the_root() -> None:
    stats = [
        ProcStat(10, "unshare", 1, 0, 0),
        ProcStat(11, "asterisk", 10, 0, 0),
        ProcStat(12, "helper", 11, 0, 0),
        ProcStat(20, "other", 1, 0, 0),
    ]
    assert descendants(10, stats) == {10, 11, 12}
    assert descendants(20, stats) == {20}


def test_this_process_is_found_in_proc() -> None:
    assert os.getpid() in {s.pid for s in read_all_stats()}


def test_quiet_needs_the_last_samples_all_below_the_threshold() -> None:
    from bench.cpu import quiet

    assert not quiet([0.0, 0.0], below=0.1, seconds=3)  # not enough samples yet
    assert not quiet([0.0, 0.0, 0.5], below=0.1, seconds=3)
    assert quiet([0.9, 0.8, 0.05, 0.0, 0.02], below=0.1, seconds=3)
    assert not quiet([0.0] * 5, below=0.1, seconds=0)
