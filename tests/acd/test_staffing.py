"""Erlang C against an exact reference, its monotonicity, the simulation, and the advice per queue-hour."""

from __future__ import annotations

import itertools
import math
import statistics
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from acd.metrics import CallFact
from acd.staffing import (
    agents_needed,
    asa,
    erlang_b,
    erlang_c,
    estimate_patience_s,
    service_level,
    simulate_queue,
    staffing_advice,
)


def exact_erlang_c(n: int, a: Fraction) -> Fraction:
    """The closed form, in exact rationals: (Aᴺ/N!·N/(N−A)) / (Σₖ₌₀ᴺ⁻¹ Aᵏ/k! + Aᴺ/N!·N/(N−A))."""
    waiting = a**n / math.factorial(n) * n / (n - a)
    return waiting / (sum(a**k / math.factorial(k) for k in range(n)) + waiting)


def test_erlang_c_hand_example() -> None:
    # A = 2 Erlangs, N = 3: Σ = 1 + 2 + 2 = 5, A³/3!·3/(3−2) = 4, C = 4/9
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)
    assert erlang_b(1, 1.0) == pytest.approx(0.5)  # B(1, A) = A / (1 + A)


@pytest.mark.parametrize(
    ("n", "a"),
    [
        (1, Fraction(1, 2)),
        (11, Fraction(10)),
        (25, Fraction(47, 2)),
        (120, Fraction(100)),
        (500, Fraction(480)),
    ],
)
def test_erlang_c_matches_the_exact_closed_form(n: int, a: Fraction) -> None:
    assert erlang_c(n, float(a)) == pytest.approx(float(exact_erlang_c(n, a)), rel=1e-9)


def test_service_level_and_asa_formulas() -> None:
    n, a, aht, t = 11, 10.0, 180.0, 20.0
    c = float(exact_erlang_c(11, Fraction(10)))
    assert service_level(n, a, aht, t) == pytest.approx(1 - c * math.exp(-(n - a) * t / aht))
    assert asa(n, a, aht) == pytest.approx(c * aht / (n - a))


def test_overloaded_and_idle_edges() -> None:
    assert erlang_c(10, 10.0) == 1.0 and erlang_c(5, 7.5) == 1.0
    assert service_level(10, 10.0, 180.0, 9.0) == 0.0
    assert asa(10, 12.0, 180.0) == math.inf
    assert erlang_c(3, 0.0) == 0.0 and service_level(3, 0.0, 180.0, 9.0) == 1.0 and asa(3, 0.0, 180.0) == 0.0
    with pytest.raises(ValueError):
        erlang_c(-1, 2.0)
    with pytest.raises(ValueError):
        service_level(3, 1.0, 0.0, 9.0)


def test_monotonic_in_agents_and_traffic() -> None:
    a = 20.0
    cs = [erlang_c(n, a) for n in range(21, 40)]
    assert all(x > y for x, y in itertools.pairwise(cs))
    sls = [service_level(n, a, 180.0, 9.0) for n in range(21, 40)]
    assert all(x < y for x, y in itertools.pairwise(sls))
    asas = [asa(n, a, 180.0) for n in range(21, 40)]
    assert all(x > y for x, y in itertools.pairwise(asas))
    by_traffic = [erlang_c(30, a) for a in (5.0, 10.0, 20.0, 25.0, 29.0)]
    assert all(x < y for x, y in itertools.pairwise(by_traffic))


def test_agents_needed_is_the_fewest_that_meet_the_target() -> None:
    rate, aht, t = 200 / 3600, 180.0, 9.0  # 10 Erlangs
    n = agents_needed(rate, aht, t, 0.8)
    assert n is not None and n > 10
    assert service_level(n, rate * aht, aht, t) >= 0.8
    assert service_level(n - 1, rate * aht, aht, t) < 0.8
    more = agents_needed(400 / 3600, aht, t, 0.8)
    assert more is not None and more > n
    assert agents_needed(0.0, aht, t, 0.8) == 0
    assert agents_needed(10.0, aht, t, 0.8, max_agents=500) is None  # 1800 Erlangs


def test_simulation_without_abandons_converges_to_erlang_c() -> None:
    n, aht, t = 10, 180.0, 20.0
    a = 7.0  # Erlang C: SL(20 s) 0.841, ASA 13.3 s
    for patience in (math.inf, 1e12):
        runs = [
            simulate_queue(n, a / aht, aht, patience, t, calls=100_000, seed=seed) for seed in range(1, 6)
        ]
        assert all(r.abandon_rate == 0.0 for r in runs)
        assert statistics.mean(r.sl or 0.0 for r in runs) == pytest.approx(
            service_level(n, a, aht, t), abs=0.01
        )
        assert statistics.mean(r.asa_s or 0.0 for r in runs) == pytest.approx(asa(n, a, aht), rel=0.08)


def test_simulation_is_deterministic_and_abandons_with_impatience() -> None:
    args = (5, 4.5 / 180, 180.0)
    assert simulate_queue(*args, 60.0, 9.0, seed=3) == simulate_queue(*args, 60.0, 9.0, seed=3)
    patient = simulate_queue(*args, 600.0, 9.0)
    impatient = simulate_queue(*args, 20.0, 9.0)
    assert 0.0 < patient.abandon_rate < impatient.abandon_rate
    assert impatient.asa_s is not None and patient.asa_s is not None and impatient.asa_s < patient.asa_s
    with pytest.raises(ValueError):
        simulate_queue(0, 0.1, 180.0, 60.0, 9.0)


T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def call(
    id: str, start: float, *, asa_s: float | None, talk: float | None = None, queue: str = "orders"
) -> CallFact:
    """Queued at arrival; answered after ``asa_s`` (None: hung up after 30 s)."""
    if asa_s is None:
        return CallFact(
            id, queue, at(start), queued_at=at(start), ended_at=at(start + 30), outcome="abandoned"
        )
    return CallFact(
        id,
        queue,
        at(start),
        queued_at=at(start),
        agent="a1",
        agent_answered_at=at(start + asa_s),
        ended_at=at(start + asa_s + 100),
        outcome="completed",
        talk_s=talk,
    )


def test_patience_estimate_counts_answered_waits_as_censored() -> None:
    facts = [call("a", 0, asa_s=10), call("b", 60, asa_s=20), call("c", 120, asa_s=None)]
    assert estimate_patience_s(facts) == pytest.approx(60.0)  # (10 + 20 + 30) waited ÷ 1 abandon
    assert estimate_patience_s(facts[:2]) is None


def test_staffing_advice_per_queue_and_hour() -> None:
    facts = [
        call("o1", 0, asa_s=5, talk=200),
        call("o2", 600, asa_s=5, talk=100),
        call("o3", 1200, asa_s=None),
        call("o4", 1800, asa_s=5, talk=None),
        call("o5", 3700, asa_s=5, talk=None),  # 10:00, no AHT measured there: the queue's 150 s
        call("r1", 0, asa_s=5, talk=None, queue="returns"),  # nothing measured: 180 s
        call("r2", 7300, asa_s=5, talk=None, queue="returns"),  # outside [since, until)
    ]
    rows = staffing_advice(facts, 3.0, 3, since=T0, until=at(5400), sim_calls=2000)
    assert [(r.queue, r.hour) for r in rows] == [
        ("orders", "2026-12-01T09:00:00Z"),
        ("orders", "2026-12-01T10:00:00Z"),
        ("returns", "2026-12-01T09:00:00Z"),
    ]
    nine, ten, returns = rows
    assert nine.offered == 4 and nine.arrival_rate_per_h == pytest.approx(4.0)
    assert nine.aht_s == pytest.approx(150.0)
    assert nine.agents_needed_erlang == agents_needed(4 / 3600, 150.0, 9.0, 0.8)
    assert nine.measured_sl == 1.0
    assert nine.patience_mean_s == pytest.approx((5 + 5 + 30 + 5 + 5) / 1)
    assert nine.simulated_sl_at_that_n is not None and nine.simulated_abandon_rate is not None
    assert ten.arrival_rate_per_h == pytest.approx(2.0)  # one call in the half hour inside the window
    assert ten.aht_s == pytest.approx(150.0)
    assert returns.aht_s == 180.0 and returns.patience_mean_s is None
    assert returns.simulated_abandon_rate == 0.0
