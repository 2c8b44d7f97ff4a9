"""Routing decisions: skills, proficiency, language, relaxation, priority, FIFO, strategies."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

import pytest

from acd.model import QueueConfig
from acd.router import AgentView, Match, WaitingCall, current_rules, route, route_result
from tests.acd.builders import at, queue


def av(
    agent_id: str,
    skills: Mapping[str, int],
    langs: tuple[str, ...] = ("ja", "en"),
    *,
    idle_since: float | None = 0.0,
    calls: int = 0,
    free: bool = True,
) -> AgentView:
    return AgentView(
        agent_id,
        MappingProxyType(dict(skills)),
        langs,
        free,
        None if idle_since is None else at(idle_since),
        calls,
    )


def wc(
    call_id: str,
    q: str,
    *,
    waited: float = 0.0,
    now: float = 100.0,
    lang: str | None = "ja",
    priority: int = 0,
    exclude: frozenset[str] = frozenset(),
) -> WaitingCall:
    return WaitingCall(call_id, q, priority, at(now - waited), lang, exclude=exclude)


def agents_of(*views: AgentView) -> dict[str, AgentView]:
    return {v.id: v for v in views}


def queues_of(*qs: QueueConfig) -> dict[str, QueueConfig]:
    return {q.name: q for q in qs}


def pairs(matches: list[Match]) -> list[tuple[str, tuple[str, ...]]]:
    return [(m.call_id, m.agent_ids) for m in matches]


NOW = at(100)
ORDERS = queue("orders", min_proficiency=3)
RETURNS = queue("returns")

ELIGIBILITY = [
    # (description, agent, call, matched?)
    ("has skill at minimum", av("a", {"orders": 3}), wc("c", "orders"), True),
    ("below minimum", av("a", {"orders": 2}), wc("c", "orders"), False),
    ("other skill only", av("a", {"returns": 5}), wc("c", "orders"), False),
    ("no skills", av("a", {}), wc("c", "orders"), False),
    ("does not speak ja", av("a", {"orders": 5}, ("en",)), wc("c", "orders"), False),
    ("caller language unknown", av("a", {"orders": 5}, ("en",)), wc("c", "orders", lang=None), True),
    ("not free", av("a", {"orders": 5}, free=False), wc("c", "orders"), False),
    ("excluded", av("a", {"orders": 5}), wc("c", "orders", exclude=frozenset({"a"})), False),
    ("unknown queue", av("a", {"orders": 5}), wc("c", "nope"), False),
]


@pytest.mark.parametrize(("why", "agent", "call", "matched"), ELIGIBILITY, ids=[e[0] for e in ELIGIBILITY])
def test_eligibility(why: str, agent: AgentView, call: WaitingCall, matched: bool) -> None:
    got = route(agents_of(agent), [call], queues_of(ORDERS, RETURNS), NOW)
    assert pairs(got) == ([("c", ("a",))] if matched else [])


def test_busy_with_is_excluded_too() -> None:
    call = replace(wc("c", "orders"), busy_with=frozenset({"a"}))
    got = route(agents_of(av("a", {"orders": 5}), av("b", {"orders": 3})), [call], queues_of(ORDERS), NOW)
    assert pairs(got) == [("c", ("b",))]


RELAXED = queue("orders", min_proficiency=4, relax=((30, 2), (60, None, True)))
RELAX_CASES = [
    # waited, agent proficiency, agent languages, matched?
    (0, 4, ("ja",), True),
    (29.9, 3, ("ja",), False),
    (30, 3, ("ja",), True),
    (30, 2, ("ja",), True),
    (30, 1, ("ja",), False),
    (59, 4, ("en",), False),
    (60, 4, ("en",), True),
    (60, 1, ("en",), False),
    (600, 2, ("en",), True),
]


@pytest.mark.parametrize(("waited", "level", "langs", "matched"), RELAX_CASES)
def test_relaxation_on_time_waited(waited: float, level: int, langs: tuple[str, ...], matched: bool) -> None:
    got = route(
        agents_of(av("a", {"orders": level}, langs)),
        [wc("c", "orders", waited=waited)],
        queues_of(RELAXED),
        NOW,
    )
    assert bool(got) is matched


def test_relaxation_only_widens() -> None:
    q = queue("orders", min_proficiency=3, relax=((10, 1), (20, 4)))
    assert current_rules(q, 0) == (3, False)
    assert current_rules(q, 15) == (1, False)
    assert current_rules(q, 25) == (1, False)  # a later, stricter rule never narrows the pool again


def test_fifo_within_a_queue_and_call_id_breaks_ties() -> None:
    calls = [wc("c3", "returns", waited=5), wc("c1", "returns", waited=50), wc("c2", "returns", waited=50)]
    got = route(agents_of(av("a", {"returns": 1})), calls, queues_of(RETURNS), NOW)
    assert pairs(got) == [("c1", ("a",))]
    got = route(agents_of(av("a", {"returns": 1}), av("b", {"returns": 1})), calls, queues_of(RETURNS), NOW)
    assert [m.call_id for m in got] == ["c1", "c2"]


def test_priority_before_arrival() -> None:
    vip = queue("vip", skill="returns", priority=0)
    calls = [wc("old", "returns", waited=90), wc("new-vip", "vip", waited=1, priority=10)]
    got = route(agents_of(av("a", {"returns": 1})), calls, queues_of(RETURNS, vip), NOW)
    assert pairs(got) == [("new-vip", ("a",))]


def test_agent_used_once_per_decision() -> None:
    calls = [wc(f"c{i}", "orders", waited=i) for i in range(5)]
    got = route(agents_of(av("a", {"orders": 5}), av("b", {"orders": 4})), calls, queues_of(ORDERS), NOW)
    assert len(got) == 2
    assert sorted(a for m in got for a in m.agent_ids) == ["a", "b"]
    assert [m.call_id for m in got] == ["c4", "c3"]


def test_a_call_skipped_for_language_does_not_block_the_next() -> None:
    calls = [wc("en-caller", "orders", waited=50, lang="en"), wc("ja-caller", "orders", waited=10)]
    got = route(agents_of(av("a", {"orders": 5}, ("ja",))), calls, queues_of(ORDERS), NOW)
    assert pairs(got) == [("ja-caller", ("a",))]


def test_longest_idle_then_proficiency_then_id() -> None:
    q = queues_of(queue("orders", strategy="longest-idle"))
    agents = agents_of(
        av("d", {"orders": 5}, idle_since=50),
        av("c", {"orders": 2}, idle_since=10),
        av("b", {"orders": 4}, idle_since=10),
        av("a", {"orders": 4}, idle_since=10),
        av("e", {"orders": 1}, idle_since=None),  # never busy: longest idle of all
    )
    calls = [wc(f"c{i}", "orders", waited=50 - i) for i in range(5)]
    got = route(agents, calls, q, NOW)
    assert [m.agent_ids[0] for m in got] == ["e", "a", "b", "c", "d"]


def test_fewest_calls_then_proficiency() -> None:
    q = queues_of(queue("orders", strategy="fewest-calls"))
    agents = agents_of(
        av("a", {"orders": 5}, calls=9, idle_since=0),
        av("b", {"orders": 1}, calls=2, idle_since=90),
        av("c", {"orders": 3}, calls=2, idle_since=90),
    )
    calls = [wc(f"c{i}", "orders", waited=50 - i) for i in range(3)]
    assert [m.agent_ids[0] for m in route(agents, calls, q, NOW)] == ["c", "b", "a"]


def test_round_robin_rotates_across_decisions() -> None:
    q = queues_of(queue("orders", strategy="round-robin"))
    agents = agents_of(*(av(x, {"orders": 1}) for x in "abcd"))
    picked = []
    pointers: dict[str, int] = {}
    for i in range(6):
        result = route_result(agents, [wc(f"c{i}", "orders")], q, NOW, pointers)
        picked.append(result.matches[0].agent_ids[0])
        pointers = result.rr_pointers
    assert picked == ["a", "b", "c", "d", "a", "b"]


def test_round_robin_skips_busy_agents_and_keeps_position() -> None:
    q = queues_of(queue("orders", strategy="round-robin"))
    agents = agents_of(av("a", {"orders": 1}), av("b", {"orders": 1}, free=False), av("c", {"orders": 1}))
    result = route_result(agents, [wc("c1", "orders")], q, NOW, {"orders": 1})
    assert pairs(result.matches) == [("c1", ("c",))]
    assert result.rr_pointers == {"orders": 0}  # after "c" (position 2) comes position 0 again


def test_ring_all_takes_every_eligible_free_agent() -> None:
    q = queues_of(queue("operator", strategy="ring-all", min_proficiency=2))
    agents = agents_of(
        av("a", {"operator": 3}),
        av("b", {"operator": 1}),
        av("c", {"operator": 5}, ("en",)),
        av("d", {"operator": 2}),
        av("e", {"operator": 4}, free=False),
    )
    got = route(agents, [wc("c1", "operator"), wc("c2", "operator", waited=1)], q, NOW)
    assert pairs(got) == [("c2", ("a", "d"))]  # the second call finds nobody left


def test_nothing_free_or_nothing_waiting() -> None:
    q = queues_of(ORDERS)
    assert route(agents_of(av("a", {"orders": 5}, free=False)), [wc("c", "orders")], q, NOW) == []
    assert route(agents_of(av("a", {"orders": 5})), [], q, NOW) == []


def _brute_force(
    agents: dict[str, AgentView], calls: list[WaitingCall], queues: dict[str, QueueConfig]
) -> list[tuple[str, tuple[str, ...]]]:
    """The rules written the slow, obvious way (longest-idle / fewest-calls only)."""
    used: set[str] = set()
    out: list[tuple[str, tuple[str, ...]]] = []
    for call in sorted(calls, key=lambda c: (-c.priority, c.entered_at, c.call_id)):
        q = queues[call.queue]
        level, any_lang = current_rules(q, (NOW - call.entered_at).total_seconds())
        ok = [
            a
            for a in agents.values()
            if a.free
            and a.id not in used
            and a.skills.get(q.skill, 0) >= level
            and (any_lang or call.lang is None or call.lang in a.languages)
            and a.id not in call.exclude
        ]
        if q.strategy == "fewest-calls":
            ok.sort(key=lambda a: (a.calls_handled, -a.skills[q.skill], a.id))
        else:
            ok.sort(key=lambda a: (a.free_since, -a.skills[q.skill], a.id))
        if ok:
            used.add(ok[0].id)
            out.append((call.call_id, (ok[0].id,)))
    return out


@pytest.mark.parametrize("seed", range(8))
def test_many_agents_agree_with_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    queues = queues_of(
        queue("orders", min_proficiency=3, relax=((30, 1), (60, None, True))),
        queue("returns", min_proficiency=2, strategy="fewest-calls"),
        queue("vip", skill="orders", priority=5, min_proficiency=4),
    )
    agents = agents_of(
        *(
            av(
                f"{100 + i}",
                {s: rng.randint(1, 5) for s in rng.sample(["orders", "returns"], rng.randint(1, 2))},
                rng.choice((("ja",), ("en",), ("ja", "en"))),
                idle_since=rng.randint(0, 50),
                calls=rng.randint(0, 5),
                free=rng.random() < 0.6,
            )
            for i in range(120)
        )
    )
    calls = [
        wc(
            f"c{i:03}",
            rng.choice(list(queues)),
            waited=rng.randint(0, 90),
            lang=rng.choice(("ja", "en", None)),
            priority=rng.choice((0, 0, 3)),
            exclude=frozenset({f"{100 + rng.randint(0, 119)}"}),
        )
        for i in range(200)
    ]
    got = pairs(route(agents, calls, queues, NOW))
    assert got == _brute_force(agents, calls, queues)
    assert got  # the scenario is not trivially empty
