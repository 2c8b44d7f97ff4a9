"""Routing decision time: ``python -m bench.router`` prints p50/p99 (ms) for 1,000 agents and 10,000 calls.

Scenarios: 10% of the agents free, none free, all free. Agents and calls are random but seeded, with
the five shipped queues, mixed proficiencies and Japanese/English speakers.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from acd.model import QueueConfig, RelaxRule
from acd.router import AgentView, WaitingCall, route_result

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
QUEUES: dict[str, QueueConfig] = {
    "orders": QueueConfig("orders", "orders", 2, 10, relax=(RelaxRule(30, 1), RelaxRule(60, None, True))),
    "returns": QueueConfig("returns", "returns", 2, 5, relax=(RelaxRule(45, 1),)),
    "complaints": QueueConfig("complaints", "complaints", 3, 20, strategy="fewest-calls"),
    "inquiries": QueueConfig("inquiries", "inquiries", strategy="round-robin"),
    "operator": QueueConfig("operator", "operator", priority=30, strategy="ring-all"),
}
SCENARIOS = (("10% free", 0.1), ("0 free", 0.0), ("all free", 1.0))


def make_agents(n: int, free_share: float, rng: random.Random) -> dict[str, AgentView]:
    names = list(QUEUES)
    agents: dict[str, AgentView] = {}
    free_ids = set(rng.sample(range(n), round(n * free_share)))
    for i in range(n):
        skills = {s: rng.randint(1, 5) for s in rng.sample(names, rng.randint(1, 3))}
        langs = rng.choice((("ja",), ("en",), ("ja", "en")))
        since = NOW - timedelta(seconds=rng.uniform(0, 600))
        agent_id = str(10000 + i)
        agents[agent_id] = AgentView(agent_id, skills, langs, i in free_ids, since, rng.randint(0, 40))
    return agents


def make_calls(n: int, rng: random.Random) -> list[WaitingCall]:
    names = list(QUEUES)
    return [
        WaitingCall(
            f"c{i}",
            q := rng.choice(names),
            QUEUES[q].priority,
            NOW - timedelta(seconds=rng.uniform(0, 300)),
            rng.choice(("ja", "ja", "en", None)),
        )
        for i in range(n)
    ]


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (``p`` in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def measure(agents: dict[str, AgentView], calls: list[WaitingCall], repeat: int) -> list[float]:
    """Milliseconds per decision, ``repeat`` times."""
    out: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        route_result(agents, calls, QUEUES, NOW)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.router", description=__doc__)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    calls = make_calls(args.calls, rng)
    print(f"route(): {args.agents} agents, {args.calls} waiting calls, {args.repeat} decisions each")
    print(f"{'scenario':<10} {'matches':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for label, share in SCENARIOS:
        agents = make_agents(args.agents, share, rng)
        matches = len(route_result(agents, calls, QUEUES, NOW).matches)
        times = measure(agents, calls, args.repeat)
        print(f"{label:<10} {matches:>8} {percentile(times, 50):>8.2f} {percentile(times, 99):>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
