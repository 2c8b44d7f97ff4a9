"""Staffing: Erlang C, and an M/M/N+M simulation to check the advice when callers hang up.

Pure: synchronous, no I/O, no clock; the simulation draws from its own seeded ``random.Random``.
A = λ·AHT (Erlangs); P(wait) = C(N, A); SL(t) = 1 − C·e^(−(N−A)t/AHT); ASA = C·AHT/(N−A).
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from acd.metrics import (
    CallFact,
    ServiceStandard,
    abandon_wait_s,
    answer_wait_s,
    as_utc,
    by_hour,
    by_queue,
    group_figures,
    handle_time_s,
    in_window,
    is_offered,
    iso_utc,
    mean,
)

DEFAULT_AHT_S = 180.0
DEFAULT_MAX_AGENTS = 500


@dataclass(frozen=True)
class SimResult:
    """Simulated service: SL = answered within target ÷ answered; ASA over answered calls."""

    sl: float | None
    abandon_rate: float
    asa_s: float | None


@dataclass(frozen=True)
class StaffingRow:
    """Advice for one queue in one UTC hour, next to what was measured there."""

    queue: str
    hour: str
    arrival_rate_per_h: float
    aht_s: float
    agents_needed_erlang: int | None
    simulated_sl_at_that_n: float | None
    simulated_abandon_rate: float | None
    offered: int
    measured_sl: float | None
    patience_mean_s: float | None  # None: no abandons seen, simulated as infinitely patient


def _check(n: int, a: float) -> None:
    if n < 0 or a < 0 or math.isnan(a):
        raise ValueError(f"need n >= 0 and a >= 0, got n={n}, a={a}")


def erlang_b(n: int, a: float) -> float:
    """Blocking probability B(N, A) by the stable recursion B(k) = A·B(k−1) / (k + A·B(k−1))."""
    _check(n, a)
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def _c_from_b(n: int, a: float, b: float) -> float:
    if a == 0:
        return 0.0
    if n <= a:
        return 1.0
    return n * b / (n - a * (1.0 - b))


def erlang_c(n: int, a: float) -> float:
    """P(wait) with N agents and A Erlangs of traffic; 1.0 when N ≤ A (the queue never drains)."""
    return _c_from_b(n, a, erlang_b(n, a))


def _service_level(n: int, a: float, c: float, aht_s: float, t_s: float) -> float:
    if a == 0:
        return 1.0
    if n <= a:
        return 0.0
    return max(0.0, 1.0 - c * math.exp(-(n - a) * t_s / aht_s))


def service_level(n: int, a: float, aht_s: float, t_s: float) -> float:
    """Share of calls answered within ``t_s``: 1 − C·e^(−(N−A)·t/AHT); 0.0 when N ≤ A."""
    if aht_s <= 0:
        raise ValueError(f"aht_s must be positive, got {aht_s}")
    return _service_level(n, a, erlang_c(n, a), aht_s, t_s)


def asa(n: int, a: float, aht_s: float) -> float:
    """Average speed of answer C·AHT/(N−A); infinite when N ≤ A (and A > 0)."""
    c = erlang_c(n, a)
    if c == 0.0:
        return 0.0
    if n <= a:
        return math.inf
    return c * aht_s / (n - a)


def agents_needed(
    arrival_rate_per_s: float,
    aht_s: float,
    target_s: float,
    target_share: float,
    max_agents: int = DEFAULT_MAX_AGENTS,
) -> int | None:
    """Fewest agents whose Erlang C service level within ``target_s`` reaches ``target_share``.

    0 when there is no traffic; None when even ``max_agents`` is not enough.
    """
    if aht_s <= 0 or arrival_rate_per_s < 0:
        raise ValueError(f"need aht_s > 0 and arrival_rate_per_s >= 0, got {aht_s}, {arrival_rate_per_s}")
    a = arrival_rate_per_s * aht_s
    if a == 0:
        return 0
    b = 1.0
    for n in range(1, max_agents + 1):
        b = a * b / (n + a * b)
        if n > a and _service_level(n, a, _c_from_b(n, a, b), aht_s, target_s) >= target_share:
            return n
    return None


def simulate_queue(
    n: int,
    arrival_rate_per_s: float,
    aht_s: float,
    patience_mean_s: float,
    target_s: float,
    calls: int = 5000,
    seed: int = 1,
) -> SimResult:
    """M/M/N+M, first come first served: Poisson arrivals, exponential handle time and patience.

    Deterministic for a given seed. A warm-up of ``calls // 10`` calls runs first and is not counted,
    so the queue is not measured empty. ``patience_mean_s = math.inf`` means nobody hangs up.
    """
    if n < 1 or calls < 1 or arrival_rate_per_s <= 0 or aht_s <= 0 or patience_mean_s <= 0:
        raise ValueError("need n >= 1, calls >= 1 and positive rate, AHT and patience")
    rng = random.Random(seed)
    free_at = [0.0] * n  # when each agent is next free (a heap)
    now = 0.0
    warmup = calls // 10
    answered = within = abandoned = 0
    total_wait = 0.0
    for index in range(warmup + calls):
        now += rng.expovariate(arrival_rate_per_s)
        handle = rng.expovariate(1.0 / aht_s)
        patience = math.inf if math.isinf(patience_mean_s) else rng.expovariate(1.0 / patience_mean_s)
        start = max(now, free_at[0])
        wait = start - now
        counted = index >= warmup
        if wait > patience:
            abandoned += counted
            continue
        heapq.heapreplace(free_at, start + handle)
        if counted:
            answered += 1
            total_wait += wait
            within += wait <= target_s
    return SimResult(
        sl=within / answered if answered else None,
        abandon_rate=abandoned / calls,
        asa_s=total_wait / answered if answered else None,
    )


def estimate_patience_s(facts: Sequence[CallFact]) -> float | None:
    """Mean patience of an exponential model: time waited by every queued caller ÷ abandons.

    The maximum-likelihood estimate with answered calls as censored samples. None when nobody abandoned.
    """
    waits = [w for w in (answer_wait_s(c) for c in facts) if w is not None]
    abandons = [w for w in (abandon_wait_s(c) for c in facts) if w is not None]
    if not abandons:
        return None
    return max(sum(waits) + sum(abandons), 1e-3) / len(abandons)


def _exposure_h(hour: datetime, since: datetime | None, until: datetime | None) -> float:
    start, end = hour, hour + timedelta(hours=1)
    if since is not None:
        start = max(start, as_utc(since))
    if until is not None:
        end = min(end, as_utc(until))
    return max((end - start).total_seconds(), 0.0) / 3600.0


def staffing_advice(
    facts: Sequence[CallFact],
    ring_cycle_s: float,
    target_rings: int,
    target_share: float = 0.8,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    short_abandon_s: float = 5.0,
    default_aht_s: float = DEFAULT_AHT_S,
    sim_calls: int = 5000,
    seed: int = 1,
) -> list[StaffingRow]:
    """Agents needed per queue and UTC hour, from the measured arrival rate and AHT.

    Only calls that arrived in [since, until) count.
    Arrival rate = offered calls in the hour ÷ the part of the hour inside [since, until).
    AHT = the queue-hour's mean, else the queue's mean over all hours, else ``default_aht_s``.
    Patience for the simulation is estimated per queue (see ``estimate_patience_s``).
    """
    standard = ServiceStandard(ring_cycle_s, target_rings, short_abandon_s)
    rows: list[StaffingRow] = []
    windowed = [c for c in facts if in_window(c, since, until)]
    for queue, queue_facts in by_queue(windowed).items():
        offered_facts = [c for c in queue_facts if is_offered(c)]
        queue_aht = mean(h for h in (handle_time_s(c) for c in offered_facts) if h is not None)
        patience = estimate_patience_s(offered_facts)
        for hour, hour_facts in by_hour(queue_facts).items():
            figures = group_figures(hour_facts, standard)
            exposure_h = _exposure_h(hour, since, until)
            if figures.offered == 0 or exposure_h == 0:
                continue
            rate_per_h = figures.offered / exposure_h
            aht_s = figures.aht_s or queue_aht or default_aht_s
            needed = agents_needed(rate_per_h / 3600.0, aht_s, standard.target_s, target_share)
            sim = None
            if needed is not None and needed >= 1:
                sim = simulate_queue(
                    needed,
                    rate_per_h / 3600.0,
                    aht_s,
                    math.inf if patience is None else patience,
                    standard.target_s,
                    calls=sim_calls,
                    seed=seed,
                )
            rows.append(
                StaffingRow(
                    queue=queue,
                    hour=iso_utc(hour),
                    arrival_rate_per_h=rate_per_h,
                    aht_s=aht_s,
                    agents_needed_erlang=needed,
                    simulated_sl_at_that_n=sim.sl if sim else None,
                    simulated_abandon_rate=sim.abandon_rate if sim else None,
                    offered=figures.offered,
                    measured_sl=figures.sl,
                    patience_mean_s=patience,
                )
            )
    return rows
