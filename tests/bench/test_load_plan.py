"""The caller mix of bench.load as data: numbers, shares, rates (pure)."""

from __future__ import annotations

import pytest

from bench.load_plan import KINDS, caller_number, injection_file, kind_of, plan_mix, split_calls


def test_caller_numbers_carry_the_kind_the_delay_and_the_index() -> None:
    agent = next(k for k in KINDS if k.with_agent)
    number = caller_number(agent, 7, 3.5)
    assert number == f"{agent.prefix}3500007"
    assert kind_of(number) == agent
    assert kind_of("0312345678") is None
    with pytest.raises(ValueError):
        caller_number(agent, 0, 12.0)


def test_split_calls_follows_the_shares_and_gives_every_kind_a_call() -> None:
    counts = split_calls(100, KINDS)
    assert sum(counts) == 100
    assert counts == [round(k.share * 100) for k in KINDS]
    assert all(c >= 1 for c in split_calls(len(KINDS), KINDS))


def test_plan_mix_places_rate_times_duration_calls_with_unique_numbers() -> None:
    plans = plan_mix(2.0, 60.0, seed=3)
    assert sum(p.calls for p in plans) == 120
    numbers = [n for p in plans for n in p.numbers]
    assert len(set(numbers)) == len(numbers)
    assert sum(p.rate for p in plans) == pytest.approx(2.0)
    for plan in plans:
        assert all(kind_of(n) == plan.kind for n in plan.numbers)
        delays = [int(n[2:4]) / 10 for n in plan.numbers]
        if plan.kind.with_agent:
            assert all(1.0 <= d <= 8.0 for d in delays)
        else:
            assert set(delays) == {9.9}
    assert plan_mix(2.0, 60.0, seed=3) == plans  # the same seed, the same delays


def test_injection_file_is_sequential_one_number_per_line() -> None:
    assert injection_file(["911", "922"]) == "SEQUENTIAL\n911;\n922;\n"


def test_plan_mix_answer_delays_stay_within_the_range_given() -> None:
    agent = next(k for k in KINDS if k.with_agent)
    (plan,) = plan_mix(1.0, 200, seed=3, kinds=[agent], answer_s=(1.0, 4.0))
    delays = {int(n[2:4]) for n in plan.numbers}
    assert min(delays) >= 10 and max(delays) <= 40
    assert len(delays) > 10  # spread over the range, not one value
