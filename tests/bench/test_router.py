"""The router benchmark's helpers (timing itself is never asserted)."""

from __future__ import annotations

import random

from bench.router import QUEUES, make_agents, make_calls, measure, percentile


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0


def test_scenario_shapes() -> None:
    rng = random.Random(1)
    agents = make_agents(200, 0.1, rng)
    assert len(agents) == 200
    assert sum(a.free for a in agents.values()) == 20
    calls = make_calls(50, rng)
    assert {c.queue for c in calls} <= set(QUEUES)
    assert len(measure(agents, calls, 3)) == 3
