"""An answered agent who never got the caller (``ConnectFailed``): the caller keeps its place in line,
the agent is free again and is not offered that caller again within the ring timeout."""

from __future__ import annotations

from acd.agents import AgentState
from acd.events import CallGone, ConnectFailed, ConversationEnded, OfferAnswered, QueueLeft
from tests.acd.builders import agent, at, config, queue
from tests.acd.dist_helpers import Driver, changes, of, rings

S = AgentState


def two_agents(wrapup_s: float = 0.0) -> Driver:
    d = Driver(
        config(
            [agent("2101", {"orders": 5}), agent("2102", {"orders": 3})],
            [queue("orders", ring_timeout_s=15.0, wrapup_s=wrapup_s)],
        )
    )
    d.login("2101", "2102")
    return d


def offered(d: Driver, call_id: str, t: float) -> str:
    [(_, agent_id)] = rings(d.queue(call_id, "orders", t))
    return agent_id


def test_the_caller_is_offered_again_at_once_and_the_agent_is_free_uncounted() -> None:
    d = two_agents()
    first = offered(d, "c1", 1)
    d.send(OfferAnswered("c1-o1", at(2)), 2)
    assert d.state(first) == S.ON_CALL and d.d.agent(first).calls_handled == 1
    out = d.send(ConnectFailed("c1", first, "agent hung up", at(3)), 3)
    assert changes(out)[0] == (first, "available", None)
    assert rings(out) == [("c1", "2102" if first == "2101" else "2101")]  # the other agent, at once
    assert d.d.agent(first).calls_handled == 0 and d.d.agent(first).current_call is None
    [waiting] = d.d.waiting("orders")
    assert (waiting.call_id, waiting.entered_at) == ("c1", at(1))
    assert first in waiting.exclude


def test_the_next_free_agent_takes_the_failed_caller_before_later_callers() -> None:
    d = two_agents()
    first = offered(d, "c1", 1)
    second = offered(d, "c2", 2)
    d.send(OfferAnswered("c2-o1", at(3)), 3)  # c2 talks with the other agent
    d.send(OfferAnswered("c1-o1", at(3)), 3)
    out = d.send(ConnectFailed("c1", first, "bridge failed", at(4)), 4)
    assert rings(out) == []  # the only free agent is the one that just dropped c1
    assert rings(d.queue("c3", "orders", 5)) == [("c3", first)]
    assert d.d.waiting("orders")[0].call_id == "c1"
    d.queue("c4", "orders", 6)
    out = d.send(ConnectFailed("c2", "nobody", "stale", at(7)), 7)  # not c2's agent: ignored
    assert out == []
    out = d.send(ConversationEnded("c2", at(30)), 30)
    assert rings(out) == [("c1", second)]  # ahead of c4, who came later


def test_the_agent_who_failed_is_offered_the_caller_again_after_the_ring_timeout() -> None:
    d = Driver(config([agent("2101", {"orders": 5})], [queue("orders", ring_timeout_s=15.0)]))
    d.login("2101")
    offered(d, "c1", 1)
    d.send(OfferAnswered("c1-o1", at(2)), 2)
    d.send(ConnectFailed("c1", "2101", "agent hung up", at(3)), 3)
    assert rings(d.tick(17)) == []
    assert rings(d.tick(18)) == [("c1", "2101")]


def test_a_caller_already_gone_is_not_put_back() -> None:
    d = two_agents(wrapup_s=10.0)
    first = offered(d, "c1", 1)
    d.send(OfferAnswered("c1-o1", at(2)), 2)
    d.send(CallGone("c1"), 3)
    assert d.state(first) == S.WRAP_UP
    out = d.send(ConnectFailed("c1", first, "bridge failed", at(3)), 3)
    assert out == [] and d.d.waiting() == [] and d.state(first) == S.WRAP_UP


def test_a_call_whose_queue_was_removed_meanwhile_leaves_the_acd() -> None:
    d = two_agents()
    first = offered(d, "c1", 1)
    d.send(OfferAnswered("c1-o1", at(2)), 2)
    d.d.reconfigure(config([agent("2101", {"orders": 5}), agent("2102", {"orders": 3})], []), at(3))
    out = d.send(ConnectFailed("c1", first, "bridge failed", at(4)), 4)
    assert of(out, QueueLeft) == [QueueLeft("c1", "unknown_queue")]
    assert d.state(first) == S.AVAILABLE
