"""Distributor scenarios: events in, commands out."""

from __future__ import annotations

import pytest

from acd.agents import AgentState, AgentStatus, TransitionNotAllowed
from acd.distributor import UnknownAgent, UnknownCall, UnknownQueue, expected_wait_s
from acd.events import (
    AgentChanged,
    AgentRegistered,
    AgentRequest,
    CallGone,
    CancelOffer,
    Connect,
    ConversationEnded,
    OfferAnswered,
    OfferEnded,
    OfferFailed,
    OfferRinging,
    QueueLeft,
    QueueStatus,
    Requeue,
    RingAgent,
)
from tests.acd.builders import agent, at, config, queue
from tests.acd.dist_helpers import Driver, changes, of, rings

S = AgentState


def shop(**orders: object) -> Driver:
    orders.setdefault("ring_timeout_s", 15.0)
    orders.setdefault("wrapup_s", 10.0)
    return Driver(
        config(
            [
                agent("2101", {"orders": 5, "returns": 2}),
                agent("2102", {"orders": 3}),
                agent("2103", {"orders": 1}, ("en",)),
                agent("2104", {"returns": 4}),
            ],
            [queue("orders", min_proficiency=2, **orders), queue("returns")],
        )
    )


def test_two_callers_one_agent_served_in_order() -> None:
    d = shop()
    d.login("2102")
    assert rings(d.queue("c1", "orders", 1)) == [("c1", "2102")]
    assert rings(d.queue("c2", "orders", 2)) == []
    out = d.send(OfferAnswered("c1-o1", at(3)), 3)
    assert of(out, Connect) == [Connect("c1-o1", "c1", "2102")]
    assert d.state("2102") == S.ON_CALL and d.d.agent("2102").current_call == "c1"
    out = d.send(ConversationEnded("c1", at(60)), 60)
    assert changes(out) == [("2102", "wrap_up", None)]
    assert rings(d.tick(69)) == []
    out = d.tick(70)
    assert changes(out)[0] == ("2102", "available", None)
    assert rings(out) == [("c2", "2102")]
    assert d.d.agent("2102").calls_handled == 1


def test_a_restarted_controller_never_reuses_an_offer_id_of_the_process_before() -> None:
    """Offer ids are the agent legs' channel ids. The process before left ``c1-o1`` ringing; the new one
    hangs it up as it starts and re-queues the adopted caller. Numbered from 1 again, its first offer
    would take that leg's id, and the old leg's ChannelDestroyed would end it at once (the operator then
    excluded from the caller, who loses its turn to the next in line)."""
    one_line = config([agent("2102", {"orders": 3})], [queue("orders")])
    before = Driver(one_line)
    before.login("2102")
    [first] = of(before.queue("c1", "orders", 1), RingAgent)
    after = Driver(one_line, first_offer_number=1_000)
    after.login("2102", t=5)
    [again] = of(after.queue("c1", "orders", 1), RingAgent)  # the same place in line
    out = after.send(OfferRinging(again.offer_id, at(6)), 6)
    assert (first.offer_id, again.offer_id) == ("c1-o1", "c1-o1001")
    out += after.send(OfferAnswered("c1-o1001", at(7)), 7)
    assert of(out, Connect) == [Connect("c1-o1001", "c1", "2102")]


def test_callers_coming_back_after_a_restart_are_served_in_order_of_arrival() -> None:
    """The restarted controller adopts c2 before c1 (both waited since before the restart): with offers
    held until the callers are back, the operator goes to c1, who has waited longest."""
    d = Driver(config([agent("2102", {"orders": 3})], [queue("orders")]))
    d.d.hold_offers(at(12))
    d.login("2102", t=10)
    assert rings(d.queue("c2", "orders", 2)) == []  # entered at 2 s, back at 10 s
    assert rings(d.queue("c1", "orders", 1)) == []
    assert d.d.next_deadline() == at(12)  # a Tick ends the hold
    assert rings(d.tick(11)) == []
    assert rings(d.tick(12)) == [("c1", "2102")]


def test_returns_call_never_offered_without_the_skill() -> None:
    d = shop()
    d.login("2102", "2103")  # orders only
    d.send(AgentRequest("2104", "paused", None), 0)
    assert d.queue("r1", "returns", 0) == []
    for t in range(0, 300, 15):
        d.tick(t)
    assert not of(d.log, RingAgent)
    d.login("2104", t=299)
    assert rings(d.log) == [("r1", "2104")]


def test_relaxation_widens_the_pool_on_time() -> None:
    d = shop(relax=((30, 1), (60, None, True)))
    d.login("2103")  # proficiency 1, English only
    d.login("2101")
    d.send(AgentRequest("2101", "paused", "meeting"), 0)  # logged in, so the call queues
    assert rings(d.queue("c1", "orders", 0)) == []
    assert d.d.next_deadline() == at(30)
    assert rings(d.tick(30)) == []  # level 1 now, but 2103 does not speak Japanese
    assert rings(d.tick(60)) == [("c1", "2103")]


def test_relaxation_counts_time_spent_ringing() -> None:
    d = shop(relax=((20, 1),), ring_timeout_s=25.0)
    d.send(AgentRequest("2103", "paused", None), 0)
    d.login("2102")
    assert rings(d.queue("c1", "orders", 0, lang=None)) == [("c1", "2102")]
    d.login("2103", t=5)
    out = d.tick(25)  # RONA: 2102 paused; the call has waited 25 s (ringing included) -> level 1
    assert of(out, OfferEnded)[0].outcome == "no_answer"
    assert changes(out)[0] == ("2102", "paused", "no answer")
    assert rings(out) == [("c1", "2103")]


def test_rona_goes_to_next_agent_keeping_its_place() -> None:
    d = shop()
    d.login("2101", "2102")
    d.queue("c1", "orders", 0)
    d.queue("c2", "orders", 1)
    assert rings(d.log) == [("c1", "2101"), ("c2", "2102")]
    d.send(OfferRinging("c1-o1", at(1)), 1)
    d.send(OfferAnswered("c2-o1", at(5)), 5)
    d.login("2103", t=6)  # cannot take c1 (Japanese, level 1)
    out = d.tick(15)
    assert of(out, CancelOffer) == [CancelOffer("c1-o1", "no answer", "c1", "2101")]
    assert d.state("2101") == S.PAUSED and d.d.agent("2101").reason == "no answer"
    d.queue("c3", "orders", 16)
    d.send(ConversationEnded("c2", at(20)), 20)
    out = d.tick(30)  # 2102 free after wrap-up: c1 (older) before c3
    assert rings(out) == [("c1", "2102")]
    assert of(out, RingAgent)[0].offer_id == "c1-o2"
    assert [w.call_id for w in d.d.waiting("orders")] == ["c1", "c3"]


def test_agent_logged_out_while_rung_call_is_reoffered() -> None:
    d = shop()
    d.login("2101", "2102")
    d.queue("c0", "orders", 0)
    d.send(OfferAnswered("c0-o1", at(1)), 1)  # 2101 busy
    d.queue("c1", "orders", 2)
    assert rings(d.log)[-1] == ("c1", "2102")
    d.send(ConversationEnded("c0", at(3)), 3)
    d.tick(13)  # 2101 back from wrap-up, c1 still ringing 2102
    out = d.send(AgentRequest("2102", "logged_out", "home"), 14)
    assert of(out, CancelOffer) == [CancelOffer("c1-o1", "agent logged out", "c1", "2102")]
    assert of(out, OfferEnded)[0].outcome == "cancelled"
    assert rings(out) == [("c1", "2101")]
    assert d.state("2102") == S.LOGGED_OUT


def ring_all() -> Driver:
    d = Driver(
        config(
            [agent(a, {"operator": 3}) for a in ("2201", "2202", "2203")],
            [queue("operator", strategy="ring-all", wrapup_s=0.0)],
        )
    )
    d.login("2201", "2202", "2203")
    return d


def test_ring_all_exactly_one_connect() -> None:
    d = ring_all()
    assert sorted(a for _, a in rings(d.queue("c1", "operator", 0))) == ["2201", "2202", "2203"]
    out = d.send(OfferAnswered("c1-o2", at(3)), 3)
    assert of(out, Connect) == [Connect("c1-o2", "c1", "2202")]
    assert sorted(c.offer_id for c in of(out, CancelOffer)) == ["c1-o1", "c1-o3"]
    assert {e.offer_id: e.outcome for e in of(out, OfferEnded)} == {
        "c1-o1": "lost",
        "c1-o2": "answered",
        "c1-o3": "lost",
    }
    assert [d.state(a) for a in ("2201", "2202", "2203")] == [S.AVAILABLE, S.ON_CALL, S.AVAILABLE]


def test_simultaneous_answers_only_one_connected() -> None:
    d = ring_all()
    d.queue("c1", "operator", 0)
    first = d.send(OfferAnswered("c1-o1", at(2)), 2)
    second = d.send(OfferAnswered("c1-o3", at(2)), 2)
    assert len(of(first + second, Connect)) == 1
    assert of(second, Connect) == [] and of(second, CancelOffer)[0].offer_id == "c1-o3"
    assert d.state("2203") == S.AVAILABLE


def test_ring_all_no_answer_frees_everyone_and_rings_again() -> None:
    d = ring_all()
    d.queue("c1", "operator", 0)
    out = d.tick(15)
    assert len(of(out, CancelOffer)) == 3
    assert all(c.status.state in (S.AVAILABLE, S.RESERVED) for c in of(out, AgentChanged))
    assert len(rings(out)) == 3


def test_caller_gone_while_ringing() -> None:
    d = ring_all()
    d.queue("c1", "operator", 0)
    out = d.send(CallGone("c1"), 4)
    assert len(of(out, CancelOffer)) == 3 and {c.reason for c in of(out, CancelOffer)} == {"caller gone"}
    assert {d.state(a) for a in ("2201", "2202", "2203")} == {S.AVAILABLE}
    assert d.d.waiting() == [] and d.d.next_deadline() is None
    assert d.send(OfferAnswered("c1-o1", at(5)), 5) == [CancelOffer("c1-o1", "offer no longer valid")]


def test_caller_gone_while_connected_goes_to_wrap_up() -> None:
    d = shop()
    d.login("2102")
    d.queue("c1", "orders", 0)
    d.send(OfferAnswered("c1-o1", at(2)), 2)
    out = d.send(CallGone("c1"), 9)
    assert changes(out) == [("2102", "wrap_up", None)]
    assert d.d.next_deadline() == at(19)


@pytest.mark.parametrize(("wrapup", "state_after_end"), [(0.0, S.AVAILABLE), (10.0, S.WRAP_UP)])
def test_wrap_up_timing(wrapup: float, state_after_end: AgentState) -> None:
    d = shop(wrapup_s=wrapup)
    d.login("2102")
    d.queue("c1", "orders", 0)
    d.send(OfferAnswered("c1-o1", at(1)), 1)
    d.send(ConversationEnded("c1", at(100)), 100)
    assert d.state("2102") == state_after_end
    d.tick(109.9)
    assert d.state("2102") == state_after_end
    d.tick(110)
    assert d.state("2102") == S.AVAILABLE
    assert d.d.agent("2102").last_call_ended_at == at(100)


def test_available_during_wrap_up_ends_it_early() -> None:
    d = shop()
    d.login("2102")
    d.queue("c1", "orders", 0)
    d.send(OfferAnswered("c1-o1", at(1)), 1)
    d.send(ConversationEnded("c1", at(5)), 5)
    d.queue("c2", "orders", 6)
    out = d.send(AgentRequest("2102", "available"), 7)
    assert rings(out) == [("c2", "2102")]
    assert d.d.next_deadline() == at(22)  # only the new offer's RONA remains


def test_max_wait_timeout() -> None:
    d = shop(max_wait_s=120.0)
    d.login("2103")
    d.queue("c1", "orders", 0)
    assert d.tick(119) == []
    assert of(d.tick(120), QueueLeft) == [QueueLeft("c1", "timeout")]
    assert d.d.waiting() == []


def test_max_wait_cancels_a_ringing_offer() -> None:
    d = shop(max_wait_s=60.0, ring_timeout_s=100.0)
    d.login("2102")
    d.queue("c1", "orders", 0)
    out = d.tick(60)
    assert of(out, CancelOffer)[0].reason == "max wait"
    assert of(out, QueueLeft) == [QueueLeft("c1", "timeout")]
    assert d.state("2102") == S.AVAILABLE


def test_no_agents_and_unknown_queue() -> None:
    d = shop()
    assert d.queue("c1", "orders", 0) == [QueueLeft("c1", "no_agents")]
    assert d.queue("c2", "billing", 0) == [QueueLeft("c2", "unknown_queue")]
    d.send(AgentRequest("2104", "paused", None), 1)  # a paused agent is logged in: the call may wait
    assert d.queue("c3", "returns", 2) == []


def test_agent_requests_raise_before_changing_anything() -> None:
    d = shop()
    d.login("2102")
    d.queue("c1", "orders", 0)
    d.send(OfferAnswered("c1-o1", at(1)), 1)
    with pytest.raises(UnknownAgent):
        d.send(AgentRequest("9999", "available"), 2)
    with pytest.raises(TransitionNotAllowed):
        d.send(AgentRequest("2102", "logged_out"), 2)
    with pytest.raises(ValueError, match="unknown agent state"):
        d.send(AgentRequest("2102", "lunch"), 2)
    assert d.state("2102") == S.ON_CALL


def test_failed_offer_tries_someone_else_without_pausing() -> None:
    d = shop()
    d.login("2101", "2102")
    d.queue("c0", "orders", 0)
    d.queue("c1", "orders", 0.5)
    d.send(OfferAnswered("c0-o1", at(1)), 1)  # 2101 takes c0; c1 rings 2102
    out = d.send(OfferFailed("c1-o1", "busy", at(2)), 2)
    assert of(out, OfferEnded)[0].outcome == "failed:busy"
    assert d.state("2102") == S.AVAILABLE
    assert rings(out) == []  # 2102 is excluded for this call for ring_timeout_s
    assert rings(d.tick(17)) == [("c1", "2102")]


def test_unreachable_agent_is_paused() -> None:
    d = shop()
    d.login("2102")
    d.queue("c1", "orders", 0)
    d.send(OfferFailed("c1-o1", "unreachable", at(1)), 1)
    assert d.d.agent("2102").state == S.PAUSED and d.d.agent("2102").reason == "unreachable"


def test_reserved_elsewhere_agent_is_not_free_until_a_state_change() -> None:
    d = shop()
    d.login("2101", "2102")
    d.queue("c1", "orders", 0)
    out = d.send(OfferFailed("c1-o1", "reserved elsewhere", at(0)), 0)
    assert d.state("2101") == S.AVAILABLE  # not paused
    assert rings(out) == [("c1", "2102")]
    d.send(OfferFailed("c1-o2", "rejected", at(1)), 1)
    assert rings(d.tick(2)) == []  # 2101 still blocked, 2102 excluded
    out = d.send(AgentRegistered("2101", True), 3)
    assert rings(out) == [("c1", "2101")]


def test_reconfigure_keeps_states_and_applies_skills() -> None:
    d = shop()
    d.login("2101", "2102", "2104")
    d.queue("c1", "orders", 0)
    d.send(OfferAnswered("c1-o1", at(1)), 1)  # 2101 on call
    d.send(AgentRequest("2104", "paused", "break"), 2)
    new = config(
        [
            agent("2101", {"orders": 5}),
            agent("2102", {"returns": 5}),
            agent("2104", {"returns": 4}),
            agent("2105", {"orders": 2}),
        ],
        [queue("orders", min_proficiency=2), queue("returns")],
    )
    out = d.d.reconfigure(new, at(5))
    assert changes(out) == [("2105", "logged_out", None)]
    states = {s.id: s.state for s in d.d.agents()}
    assert states == {"2101": S.ON_CALL, "2102": S.AVAILABLE, "2104": S.PAUSED, "2105": S.LOGGED_OUT}
    assert d.queue("c2", "returns", 6)[-1] == RingAgent("c2-o1", "c2", "2102", 15.0, "call")


def test_reconfigure_retires_removed_agents_when_idle() -> None:
    d = shop()
    d.login("2101", "2102")
    d.queue("c1", "orders", 0)
    d.send(OfferAnswered("c1-o1", at(1)), 1)  # 2101 on the call
    out = d.d.reconfigure(config([agent("2104", {"returns": 1})], [queue("orders"), queue("returns")]), at(2))
    assert ("2102", "logged_out", "removed from config") in changes(out)
    assert "2101" in {s.id for s in d.d.agents()}  # still on its call
    d.send(ConversationEnded("c1", at(3)), 3)
    d.tick(13)
    assert {s.id for s in d.d.agents()} == {"2104"}
    assert ("2101", "logged_out", "removed from config") in changes(d.log)


def test_reconfigure_removed_queue_sends_waiting_calls_away() -> None:
    d = shop()
    d.send(AgentRequest("2102", "paused", None), 0)
    d.queue("c1", "orders", 0)
    out = d.d.reconfigure(config([agent("2104", {"returns": 1})], [queue("returns")]), at(1))
    assert QueueLeft("c1", "unknown_queue") in out


def test_requeue_keeps_original_arrival() -> None:
    d = Driver(
        config(
            [
                agent("2301", {"operator": 3}),
                agent("2302", {"complaints": 3}),
                agent("2303", {"complaints": 3}),
            ],
            [queue("operator", wrapup_s=5.0), queue("complaints")],
        )
    )
    d.login("2301", "2302")
    d.queue("c1", "operator", 0)
    d.send(AgentRequest("2302", "paused", None), 1)
    d.send(OfferAnswered("c1-o1", at(2)), 2)
    d.send(AgentRequest("2302", "available"), 3)
    d.queue("c2", "complaints", 3)  # rings 2302
    d.send(AgentRequest("2303", "available"), 4)
    out = d.send(Requeue("c1", "complaints", at(30)), 30)
    assert ("2301", "wrap_up", None) in changes(out)
    assert rings(out) == [("c1", "2303")]
    with pytest.raises(UnknownQueue):
        d.send(Requeue("c1", "nowhere", at(31)), 31)
    with pytest.raises(UnknownCall):
        d.send(Requeue("nope", "complaints", at(31)), 31)


def test_requeue_puts_the_call_ahead_of_later_callers() -> None:
    d = Driver(
        config(
            [agent("2301", {"operator": 3}), agent("2302", {"complaints": 3})],
            [queue("operator"), queue("complaints")],
        )
    )
    d.login("2301")
    d.send(AgentRequest("2302", "paused", None), 0)
    d.queue("c1", "operator", 0)
    d.send(OfferAnswered("c1-o1", at(1)), 1)
    d.queue("c2", "complaints", 10)
    d.send(Requeue("c1", "complaints", at(20)), 20)
    assert [w.call_id for w in d.d.waiting("complaints")] == ["c1", "c2"]
    assert d.d.waiting("complaints")[0].entered_at == at(0)


def test_announcements_position_and_ewt() -> None:
    d = shop(announce_every_s=30.0, aht_estimate_s=120.0)
    d.login("2102")
    d.send(AgentRequest("2101", "paused", None), 0)
    d.queue("c0", "orders", 0)
    d.send(OfferAnswered("c0-o1", at(1)), 1)
    d.queue("c1", "orders", 2)
    d.queue("c2", "orders", 5)
    assert of(d.tick(31.9), QueueStatus) == []
    assert of(d.tick(32), QueueStatus) == [QueueStatus("c1", 1, 120)]
    assert of(d.tick(35), QueueStatus) == [QueueStatus("c2", 2, 240)]
    d.login("2101", t=40)  # c1 now rings 2101: no announcement for it while ringing
    assert of(d.tick(55 - 0.1), QueueStatus) == []
    d.send(OfferAnswered("c1-o1", at(55)), 55)
    d.d.set_measured_aht("orders", 90.0)
    out = d.tick(65)  # c2 is first now; two agents staffed: 1 x 90 / 2
    assert of(out, QueueStatus) == [QueueStatus("c2", 1, 45)]


def test_expected_wait_formula() -> None:
    assert expected_wait_s(1, 180, 0) == 180
    assert expected_wait_s(3, 180, 2) == 270
    assert expected_wait_s(1, 100, 3) == 34


def test_queue_snapshot() -> None:
    d = shop()
    d.login("2101", "2102")
    d.send(AgentRequest("2103", "paused", None), 0)
    d.queue("c1", "orders", 0)
    d.queue("c2", "orders", 1)
    d.queue("c3", "orders", 2)
    snap = d.d.queue_snapshot(at(10))["orders"]
    assert (snap.waiting, snap.longest_wait_s, snap.available, snap.busy, snap.paused, snap.logged_in) == (
        3,
        10.0,
        0,
        2,
        1,
        3,
    )
    returns = d.d.queue_snapshot(at(10))["returns"]
    assert (returns.waiting, returns.busy, returns.logged_in) == (0, 1, 1)


def test_auto_login_on_register() -> None:
    cfg = config([agent("2101", {"orders": 3})], [queue("orders")])
    d = Driver(cfg, auto_login_on_register=True)
    out = d.send(AgentRegistered("2101", True), 0)
    assert changes(out) == [("2101", "available", "registered")]
    assert d.d.agent("2101").registered
    plain = Driver(cfg)
    plain.send(AgentRegistered("2101", True), 0)
    assert plain.state("2101") == S.LOGGED_OUT and plain.d.agent("2101").registered
    assert plain.send(AgentRegistered("9999", True), 0) == []


def test_a_logged_out_agent_whose_phone_stays_registered_stays_logged_out() -> None:
    """Device-state churn (ringing, idle again) repeats "online": only coming online logs in."""
    cfg = config([agent("2101", {"orders": 3})], [queue("orders")])
    d = Driver(cfg, auto_login_on_register=True)
    d.send(AgentRegistered("2101", True), 0)
    d.send(AgentRequest("2101", "logged_out"), 1)
    assert d.send(AgentRegistered("2101", True), 2) == []
    assert d.state("2101") == S.LOGGED_OUT
    d.send(AgentRegistered("2101", False), 3)
    d.send(AgentRegistered("2101", True), 4)  # the phone re-registers: that is a log-in again
    assert d.state("2101") == S.AVAILABLE


def test_require_registered_agents_only() -> None:
    d = Driver(config([agent("2101", {"orders": 3})], [queue("orders")]), require_registered=True)
    d.login("2101")
    assert rings(d.queue("c1", "orders", 0)) == []
    assert rings(d.send(AgentRegistered("2101", True), 1)) == [("c1", "2101")]


def test_restored_statuses() -> None:
    cfg = config([agent("2101", {"orders": 3}), agent("2102", {"orders": 3})], [queue("orders")])
    d = Driver(
        cfg,
        agents=[
            AgentStatus("2101", S.ON_CALL, at(0), current_call="old", calls_handled=7),
            AgentStatus("2102", S.RESERVED, at(0), current_call="old2"),
            AgentStatus("9999", S.AVAILABLE, at(0)),
        ],
    )
    assert {s.id: s.state for s in d.d.agents()} == {"2101": S.ON_CALL, "2102": S.AVAILABLE}
    out = d.send(ConversationEnded("old", at(5)), 5)
    assert changes(out) == [("2101", "available", None)]
    assert d.d.agent("2101").calls_handled == 7


def test_waiting_lists_ringing_calls_with_their_agents() -> None:
    d = ring_all()
    d.queue("c1", "operator", 0)
    [view] = d.d.waiting()
    assert view.call_id == "c1" and view.busy_with == {"2201", "2202", "2203"}
    d.send(OfferAnswered("c1-o1", at(1)), 1)
    assert d.d.waiting() == []


def test_deadlines_move_on_after_each_tick() -> None:
    d = shop(relax=((30, 1),), announce_every_s=20.0, max_wait_s=100.0)
    assert d.d.next_deadline() is None
    d.send(AgentRequest("2101", "paused", None), 0)
    d.queue("c1", "orders", 0)
    seen = []
    while (deadline := d.d.next_deadline()) is not None:
        t = (deadline - at(0)).total_seconds()
        seen.append(t)
        d.tick(t)
    assert seen == [20, 30, 40, 60, 80, 100]
    assert of(d.log, QueueLeft) == [QueueLeft("c1", "timeout")]


def test_reload_turning_announcements_off() -> None:
    d = shop(announce_every_s=20.0)
    d.send(AgentRequest("2101", "paused", None), 0)
    d.queue("c1", "orders", 0)
    quiet = config([agent("2101", {"orders": 5})], [queue("orders", announce_every_s=0.0)])
    d.d.reconfigure(quiet, at(1))
    assert of(d.tick(40), QueueStatus) == []
    assert d.d.next_deadline() == at(300)
