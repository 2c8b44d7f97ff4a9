"""Callbacks: an agent answers first, then the customer is dialled; retries, then give up."""

from __future__ import annotations

from acd.agents import AgentState
from acd.events import (
    AgentRequest,
    CallbackAttempt,
    CallbackGaveUp,
    CallGone,
    Connect,
    ConversationEnded,
    CustomerAnswered,
    CustomerFailed,
    DialCustomer,
    OfferAnswered,
    QueueLeft,
    RingAgent,
)
from tests.acd.builders import agent, at, config, queue
from tests.acd.dist_helpers import Driver, changes, of, rings


def driver(**kw: object) -> Driver:
    return Driver(
        config([agent("2101", {"orders": 3})], [queue("orders", max_wait_s=100.0, wrapup_s=5.0)]), **kw
    )


def test_callback_queues_even_without_agents_and_never_times_out() -> None:
    d = driver()
    assert d.queue("cb1", "orders", 0, kind="callback", number="0312345678") == []
    assert of(d.tick(500), QueueLeft) == []
    d.login("2101", t=501)
    ring = of(d.log, RingAgent)[-1]
    assert (ring.call_id, ring.agent_id, ring.kind) == ("cb1", "2101", "callback")


def test_callback_answered_by_customer() -> None:
    d = driver()
    d.login("2101")
    d.queue("cb1", "orders", 0, kind="callback", number="0312345678")
    out = d.send(OfferAnswered("cb1-o1", at(2)), 2)
    assert of(out, DialCustomer) == [DialCustomer("cb1-o1", "cb1", "2101", "0312345678")]
    assert of(out, Connect) == []
    assert d.state("2101") == AgentState.ON_CALL
    out = d.send(CustomerAnswered("cb1", at(10)), 10)
    assert out == [CallbackAttempt("cb1", 1, "answered")]
    out = d.send(ConversationEnded("cb1", at(70)), 70)
    assert changes(out) == [("2101", "wrap_up", None)]


def test_callback_retries_then_gives_up() -> None:
    d = driver(callback_retry_after_s=60.0, callback_max_attempts=3)
    d.login("2101")
    d.queue("cb1", "orders", 0, kind="callback", number="0312345678")
    t = 0.0
    for attempt in (1, 2, 3):
        offer = of(d.log, RingAgent)[-1].offer_id
        d.send(OfferAnswered(offer, at(t + 1)), t + 1)
        out = d.send(CustomerFailed("cb1", "busy", at(t + 2)), t + 2)
        assert of(out, CallbackAttempt) == [CallbackAttempt("cb1", attempt, "failed:busy")]
        assert d.state("2101") == AgentState.AVAILABLE  # no wrap-up after a failed dial
        if attempt < 3:
            assert rings(out) == []  # not before retry_after_s
            assert d.d.next_deadline() == at(t + 62)
            assert rings(d.tick(t + 61.9)) == []
            t += 62
            assert rings(d.tick(t)) == [("cb1", "2101")]
        else:
            assert of(out, CallbackGaveUp) == [CallbackGaveUp("cb1", 3)]
    assert d.d.waiting() == []
    assert not of(d.log, QueueLeft)  # a callback never counts as an abandon


def test_callback_withdrawn_while_dialing_frees_the_agent() -> None:
    d = driver()
    d.login("2101")
    d.queue("cb1", "orders", 0, kind="callback", number="0312345678")
    d.send(OfferAnswered("cb1-o1", at(1)), 1)
    d.send(CallGone("cb1"), 2)
    assert d.state("2101") == AgentState.AVAILABLE


def test_calls_and_callbacks_share_one_order() -> None:
    d = driver()
    d.send(AgentRequest("2101", "paused", None), 0)
    d.queue("cb1", "orders", 0, kind="callback", number="1")
    d.queue("c1", "orders", 1)
    d.login("2101", t=2)
    assert rings(d.log) == [("cb1", "2101")]
    snap = d.d.queue_snapshot(at(3))["orders"]
    assert (snap.waiting, snap.callbacks) == (1, 1)
