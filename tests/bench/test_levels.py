from __future__ import annotations

import pytest

from bench.levels import (
    CpuSample,
    LevelPlan,
    LevelResult,
    highest_clean,
    parse_levels,
    plan_level,
    plateau_cpu,
    should_continue,
)


def result(level: int, *, failed: int = 0, unverified: int = 0) -> LevelResult:
    plan = LevelPlan(concurrency=level, calls=2 * level, rate=10.0)
    return LevelResult(
        target="dialplan", plan=plan, successful=plan.calls - failed, failed=failed, unverified=unverified
    )


def test_parse_levels() -> None:
    assert parse_levels("25, 50,100") == (25, 50, 100)


@pytest.mark.parametrize("text", ["", "a,b", "0,10", "50,25", "10,10"])
def test_parse_levels_rejects_bad_lists_with_a_message(text: str) -> None:
    with pytest.raises(ValueError, match="--levels"):
        parse_levels(text)


def test_plan_fills_the_level_and_keeps_enough_calls() -> None:
    plan = plan_level(100, call_s=10.0)
    assert plan.calls == 200
    assert plan.rate * 10.0 >= 100  # arrivals pile up past the level; SIPp -l caps them
    assert plan_level(100, call_s=10.0, calls=30).calls == 100
    assert plan_level(10, call_s=10.0, calls=50).calls == 50
    assert plan_level(1, call_s=100.0).rate == 1.0
    with pytest.raises(ValueError):
        plan_level(0, call_s=1.0)


def test_search_stops_at_the_first_failing_level() -> None:
    clean = [result(25), result(50)]
    assert should_continue(clean)
    assert highest_clean(clean) == 50
    failing = [*clean, result(100, failed=1)]
    assert not should_continue(failing)
    assert highest_clean(failing) == 50


def test_calls_not_read_back_are_failures_too() -> None:
    runs = [result(25), result(50, unverified=3)]
    assert not should_continue(runs)
    assert highest_clean(runs) == 25
    assert highest_clean([result(25, failed=2)]) is None


def test_a_short_count_from_sipp_is_not_clean() -> None:
    short = result(25)
    short.successful -= 1
    assert not short.clean


def test_plateau_cpu_averages_only_the_seconds_at_the_level() -> None:
    samples = [
        CpuSample(5, {"asterisk": 0.1}),
        CpuSample(95, {"asterisk": 1.0, "controller": 0.4}),
        CpuSample(100, {"asterisk": 1.2, "controller": 0.6}),
        CpuSample(30, {"asterisk": 0.2}),
    ]
    cpu, calls = plateau_cpu(samples, 100)
    assert cpu == pytest.approx({"asterisk": 1.1, "controller": 0.5})
    assert calls == pytest.approx(97.5)


def test_plateau_cpu_falls_back_to_seconds_with_calls_when_the_level_never_filled() -> None:
    cpu, calls = plateau_cpu([CpuSample(0, {"asterisk": 0.0}), CpuSample(10, {"asterisk": 0.3})], 100)
    assert cpu == pytest.approx({"asterisk": 0.3})
    assert calls == 10
    assert plateau_cpu([], 100) == ({}, 0.0)


def test_cores_per_call() -> None:
    level = result(100)
    level.cpu, level.plateau_calls = {"asterisk": 1.0, "controller": 0.5}, 100.0
    assert level.cores_per_call("asterisk") == pytest.approx(0.01)
    assert level.cores_per_call("asterisk", "controller") == pytest.approx(0.015)
    assert level.cores_per_call("nothing") is None


def test_cpu_ms_per_call_counts_the_whole_level_over_successful_calls() -> None:
    level = result(100)
    level.cpu_s = {"asterisk": 10.0, "controller": 5.0}
    assert level.cpu_ms_per_call("asterisk") == pytest.approx(50.0)
    assert level.cpu_ms_per_call("asterisk", "controller") == pytest.approx(75.0)
    assert level.cpu_ms_per_call("sipp") is None
