"""Soak trend: least-squares slope per hour, RSS from /proc status (pure)."""

from __future__ import annotations

import os

import pytest

from bench.soak import Series, TreeSample, rss_kib, sample_tree, slope_per_hour


def test_slope_per_hour_of_a_steady_climb_and_of_flat_noise() -> None:
    times = [0.0, 5.0, 10.0, 15.0]
    assert slope_per_hour(times, [100.0, 105.0, 110.0, 115.0]) == pytest.approx(3600.0)
    assert slope_per_hour(times, [7.0, 9.0, 7.0, 9.0]) == pytest.approx(0.08 * 3600)  # 10 / 125 per s
    assert abs(slope_per_hour(times, [8.0, 8.0, 8.0, 8.0]) or 0.0) < 1e-9
    assert slope_per_hour([0.0, 1.0], [1.0, 2.0]) is None


def test_rss_kib_reads_vmrss() -> None:
    assert rss_kib("Name:\tx\nVmRSS:\t  2048 kB\nThreads: 1\n") == 2048
    assert rss_kib("Name:\tkthread\n") == 0


def test_sample_tree_of_this_process_sees_memory_and_fds() -> None:
    sample = sample_tree(os.getpid())
    assert sample.rss_kib > 0 and sample.fds >= 3


def test_series_describes_its_trend() -> None:
    series = Series("controller", [], [], [])
    for i in range(4):
        series.add(i * 60.0, TreeSample(100_000 + i * 1024, 40))
    text = series.describe()
    assert "+60.0 MiB/h" in text and "+0.0 fds/h" in text


def test_the_second_half_is_the_steady_state_after_warm_up() -> None:
    series = Series("controller", [], [], [])
    for second in range(0, 100, 5):
        warm = min(second, 40) * 1024  # grows while models load, then flat
        series.add(float(second), TreeSample(100_000 + warm * 10, 30))
    steady = series.second_half()
    assert steady.times_s[0] >= 47.5 and steady.times_s[-1] == 95.0
    assert "second half (steady state): RSS +0.0 MiB/h" in series.describe()
    assert series.csv().splitlines()[0] == "seconds,rss_kib,fds" and len(series.csv().splitlines()) == 21
