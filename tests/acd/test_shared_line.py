"""FIFO within priority across nodes, the pure part: which other node's call an agent owes
(``acd.shared_line``), and the line a distributor shares (``Distributor.shared_line``)."""

from __future__ import annotations

import random
from types import MappingProxyType

from acd.events import AgentRequest, CallQueued, OfferFailed, RingAgent
from acd.router import AgentView, WaitingCall, route
from acd.shared_line import Claim, SharedCall, claim_for, could_take, shared_calls
from tests.acd.builders import agent, at, config, queue
from tests.acd.dist_helpers import Driver, of

QUEUES = MappingProxyType(
    {
        "orders": queue("orders", min_proficiency=3, relax=[(60.0, 1)]),
        "returns": queue("returns", priority=5),
        "vip": queue("vip", skill="orders", relax=[(30.0, None, True)]),
        "billing": queue("billing"),
    }
)
ANNA = agent("2101", {"orders": 2, "returns": 4}, ("ja",))


def other(call_id: str, t: float, queue_: str = "orders", **kw: object) -> SharedCall:
    kw.setdefault("node", "node-b")
    kw.setdefault("lang", "ja")
    priority = int(kw.pop("priority", 0))  # type: ignore[call-overload]
    return SharedCall(call_id, queue=queue_, priority=priority, entered_at=at(t), **kw)  # type: ignore[arg-type]


def mine(call_id: str, t: float, queue_: str = "returns", priority: int = 5) -> WaitingCall:
    return WaitingCall(call_id, queue_, priority, at(t), "ja")


def test_could_take_follows_the_routers_eligibility_rules() -> None:
    assert not could_take(ANNA, other("c", 0, "billing"), QUEUES, at(10))  # no such skill
    assert not could_take(ANNA, other("c", 0), QUEUES, at(10))  # proficiency 2 < minimum 3 …
    assert could_take(ANNA, other("c", 0), QUEUES, at(60))  # … relaxed to 1 after 60 s of waiting
    assert not could_take(ANNA, other("c", 0, "returns", lang="en"), QUEUES, at(10))  # speaks ja only
    assert could_take(ANNA, other("c", 0, "returns", lang=None), QUEUES, at(10))
    assert not could_take(ANNA, other("c", 0, "vip", lang="en"), QUEUES, at(29))
    assert could_take(ANNA, other("c", 0, "vip", lang="en"), QUEUES, at(30))  # "language: any" rule
    assert not could_take(ANNA, other("c", 0, "returns", excluded=frozenset({"2101"})), QUEUES, at(10))
    assert not could_take(ANNA, other("c", 0, "gone-queue"), QUEUES, at(10))


def test_an_earlier_call_of_another_node_that_the_agent_could_take_blocks() -> None:
    claim = Claim(mine("a-2", 20), ANNA, QUEUES)
    earlier = other("b-1", 10, "returns", priority=5)
    assert claim.blocked_by([earlier], "node-a", at(25)) == earlier
    assert claim.blocked_by([other("b-3", 30, "returns", priority=5)], "node-a", at(35)) is None  # later
    assert (
        claim.blocked_by([other("a-1", 10, "returns", priority=5, node="node-a")], "node-a", at(25)) is None
    )


def test_priority_comes_before_arrival_and_the_call_id_breaks_ties() -> None:
    claim = Claim(mine("a-5", 20), ANNA, QUEUES)
    assert claim.blocked_by([other("b-low", 0, "returns", priority=4)], "node-a", at(25)) is None
    high = other("b-high", 24, "returns", priority=6)
    assert claim.blocked_by([high], "node-a", at(25)) == high
    tie_before, tie_after = other("a-4", 20, "returns", priority=5), other("a-6", 20, "returns", priority=5)
    assert claim.blocked_by([tie_after], "node-a", at(25)) is None
    assert claim.blocked_by([tie_before], "node-a", at(25)) == tie_before


def test_a_call_the_agent_could_not_take_never_blocks_but_one_behind_it_may() -> None:
    claim = Claim(mine("a-9", 50), ANNA, QUEUES)
    untakeable = other("b-1", 10, "returns", priority=5, lang="en")
    takeable = other("b-2", 40, "returns", priority=5)
    assert claim.blocked_by([untakeable], "node-a", at(55)) is None
    assert claim.blocked_by([untakeable, takeable], "node-a", at(55)) == takeable


def test_the_claim_reads_only_the_queues_whose_skill_the_agent_has() -> None:
    assert Claim(mine("a", 0), ANNA, QUEUES).queue_names() == ["orders", "returns", "vip"]


def test_no_claim_for_an_unknown_call_or_agent() -> None:
    assert claim_for(None, "2101", [ANNA], QUEUES) is None
    assert claim_for(mine("a", 0), "2999", [ANNA], QUEUES) is None
    assert claim_for(mine("a", 0), "2101", [ANNA], QUEUES) == Claim(mine("a", 0), ANNA, QUEUES)


def test_for_one_free_agent_only_the_call_the_router_would_pick_is_unblocked() -> None:
    """The rule agrees with the router: put every node's calls in one line, and the call the router
    gives a lone free agent is the one (and only one) the agent may be reserved for."""
    rng = random.Random(11)
    agents = [
        ANNA,
        agent("2102", {"orders": 5, "billing": 1}, ("en",)),
        agent("2103", {"vip": 1, "orders": 1}),
    ]
    seen = {True: 0, False: 0}
    for round_ in range(300):
        a = rng.choice(agents)
        now = at(100)
        calls = [
            WaitingCall(
                f"c{i}",
                rng.choice(list(QUEUES)),
                rng.choice((0, 5, 7)),
                at(rng.randrange(0, 90)),
                rng.choice(("ja", "en", None)),
                exclude=frozenset({a.id}) if rng.random() < 0.1 else frozenset(),
            )
            for i in range(rng.randrange(1, 7))
        ]
        views = {a.id: AgentView(a.id, a.skills, a.languages, free=True)}
        matches = route(views, calls, QUEUES, now)
        picked = matches[0].call_id if matches else None
        line = [SharedCall(c.call_id, f"node-{c.call_id}", c.queue, c.priority, c.entered_at, c.lang,
                           excluded=c.exclude) for c in calls]  # fmt: skip
        for c in calls:
            if not could_take(a, SharedCall(c.call_id, "x", c.queue, c.priority, c.entered_at, c.lang,
                                            excluded=c.exclude), QUEUES, now):  # fmt: skip
                continue
            blocked = Claim(c, a, QUEUES).blocked_by(line, f"node-{c.call_id}", now)
            assert (blocked is None) == (c.call_id == picked), (round_, a.id, calls, picked, blocked)
            seen[blocked is None] += 1
    assert min(seen.values()) > 50, seen  # both outcomes exercised


def test_the_distributor_shares_its_calls_in_line_with_their_routing_priority() -> None:
    d = Driver(
        config([agent("2101", {"orders": 3})], [queue("orders", priority=2, ring_timeout_s=15.0)]),
        reserved_elsewhere_retry_s=30.0,
    )
    d.login("2101")
    d.send(AgentRequest("2101", "paused", "lunch"), 0)
    d.send(CallQueued("c1", "orders", 1, "ja", at(1)), 1)
    d.send(CallQueued("c2", "orders", 0, None, at(2)), 2)
    line = shared_calls(d.d.shared_line(), "node-a")
    assert line == {
        "c1": SharedCall("c1", "node-a", "orders", 3, at(1), "ja"),
        "c2": SharedCall("c2", "node-a", "orders", 2, at(2), None),
    }
    assert d.d.in_line("c1") == WaitingCall("c1", "orders", 3, at(1), "ja")
    d.send(
        AgentRequest("2101", "available"), 3
    )  # c1 is offered: still in line (its reservation tells other nodes it is served)
    (ring,) = of(d.log, RingAgent)
    assert ring.call_id == "c1" and set(shared_calls(d.d.shared_line(), "node-a")) == {"c1", "c2"}
    assert d.d.in_line("c1") is not None and d.d.in_line("c1").busy_with == {"2101"}  # type: ignore[union-attr]
    d.send(OfferFailed(ring.offer_id, "no answer", at(4)), 4)  # the agent missed it: excluded for it now
    assert shared_calls(d.d.shared_line(), "node-a")["c1"].excluded == {"2101"}
    assert d.d.in_line("nope") is None
