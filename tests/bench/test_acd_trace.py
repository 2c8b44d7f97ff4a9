"""Reading SIPp message traces into rings, answers and queue entries, and the ACD benchmark's statistics."""

from __future__ import annotations

import datetime as dt

import pytest

from bench.acd_trace import (
    Offer,
    agent_offers,
    caller_entries,
    dispatches,
    figures,
    order_inversions,
    parse_messages,
    pct,
    share_within,
)

DAY = "2026-12-01"


def _at(clock: str) -> float:
    return dt.datetime.fromisoformat(f"{DAY} {clock}").timestamp()


def _block(clock: str, direction: str, *lines: str) -> str:
    verb = "UDP message received [300] bytes :" if direction == "in" else "UDP message sent (300 bytes):"
    return "\n".join([f"{'-' * 47} {DAY} {clock}", verb, "", *lines, "", ""]) + "\n"


def _invite(clock: str, call_id: str, number: str) -> str:
    return _block(
        clock,
        "in",
        "INVITE sip:3201@127.0.0.1:5062 SIP/2.0",
        "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1",
        f'From: "bench acd" <sip:{number}@127.0.0.1>;tag=abc',
        "To: <sip:3201@127.0.0.1>",
        f"Call-ID: {call_id}",
        "CSeq: 100 INVITE",
        "Content-Length: 0",
    )


def _response(clock: str, direction: str, call_id: str, number: str, status: str, method: str) -> str:
    return _block(
        clock,
        direction,
        f"SIP/2.0 {status}",
        f'From: "bench acd" <sip:{number}@127.0.0.1>;tag=abc',
        f"Call-ID: {call_id}",
        f"CSeq: 100 {method}",
    )


def _request(clock: str, direction: str, method: str, call_id: str) -> str:
    return _block(
        clock,
        direction,
        f"{method} sip:x@127.0.0.1 SIP/2.0",
        "From: <sip:3201@127.0.0.1>;tag=x",
        f"Call-ID: {call_id}",
        f"CSeq: 1 {method}",
    )


PHONE = (
    _invite("10:00:01.000000", "a1", "8130001")
    + _response("10:00:01.001000", "out", "a1", "8130001", "180 Ringing", "INVITE")
    + _response("10:00:04.000000", "out", "a1", "8130001", "200 OK", "INVITE")
    + _response("10:00:04.500000", "out", "a1", "8130001", "200 OK", "INVITE")  # retransmission
    + _request("10:00:04.600000", "in", "ACK", "a1")
    + _request("10:00:09.600000", "out", "BYE", "a1")
    + _request("10:00:10.100000", "out", "BYE", "a1")  # retransmission
    + _invite("10:00:12.000000", "a2", "8122002")
    + _request("10:00:15.000000", "in", "CANCEL", "a2")
)


def test_messages_keep_time_direction_call_and_caller() -> None:
    messages = parse_messages(PHONE)
    assert len(messages) == 9
    first = messages[0]
    assert (first.at, first.sent, first.method, first.status) == (_at("10:00:01"), False, "INVITE", None)
    assert (first.call_id, first.from_user, first.cseq_method) == ("a1", "8130001", "INVITE")
    ok = messages[2]
    assert (ok.sent, ok.method, ok.status, ok.cseq_method) == (True, None, 200, "INVITE")


def test_a_phone_trace_becomes_offers_with_first_times_only() -> None:
    answered, cancelled = agent_offers("3201", parse_messages(PHONE))
    assert answered == Offer("3201", "a1", "8130001", _at("10:00:01"), _at("10:00:04"), _at("10:00:09.6"))
    assert answered.ring_s == pytest.approx(3.0)
    assert (cancelled.caller, cancelled.answered_at, cancelled.ring_s) == ("8122002", None, None)
    assert cancelled.ended_at == _at("10:00:15")


def test_a_caller_enters_the_queue_when_its_invite_is_answered() -> None:
    trace = (
        _response("09:59:59.000000", "in", "c1", "8130001", "100 Trying", "INVITE")
        + _response("10:00:00.500000", "in", "c1", "8130001", "200 OK", "INVITE")
        + _response("10:00:01.000000", "in", "c1", "8130001", "200 OK", "INVITE")
        + _response("10:00:20.000000", "in", "c1", "8130001", "200 OK", "BYE")
    )
    assert caller_entries(parse_messages(trace)) == {"8130001": _at("10:00:00.5")}


def _offer(caller: str, rang: float, answered: float | None, ended: float | None) -> Offer:
    return Offer("3201", caller, caller, rang, answered, ended)


def test_dispatch_counts_from_the_later_of_caller_waiting_and_operator_free() -> None:
    offers = [
        _offer("a", 10.2, 12.0, 20.0),  # first ring: from the caller's entry at 10.0
        _offer("b", 22.5, 24.0, 30.0),  # caller b waited since 15: operator free at 20 + 2 s wrap-up
        _offer("c", 40.1, None, 45.0),  # caller c came at 40, after the operator was free
        _offer("d", 45.3, 47.0, 50.0),  # after an unanswered ring: free at once (no wrap-up)
        _offer("zz", 60.0, 61.0, 65.0),  # nobody entered with that number
    ]
    entered = {"a": 10.0, "b": 15.0, "c": 40.0, "d": 41.0}
    found, unmatched = dispatches(offers, entered, wrapup_s=2.0)
    assert [round(d.latency_s, 3) for d in found] == [0.2, 0.5, 0.1, 0.3]
    assert [d.queued for d in found] == [False, True, False, True]
    assert [None if d.gap_s is None else round(d.gap_s, 3) for d in found] == [None, 2.5, None, 0.3]
    assert unmatched == 1


def test_figures_take_each_callers_first_answer_and_count_unanswered_rings() -> None:
    by_agent = {
        "3201": [_offer("a", 10.5, None, 25.5)],  # rang 15 s without answer
        "3202": [
            Offer("3202", "x1", "a", 25.6, 27.6, 40.0),
            Offer("3202", "x2", "b", 42.0, 45.0, 50.0),
        ],
    }
    entered = {"a": 10.0, "b": 30.0, "never-rang": 44.0}
    result = figures(by_agent, entered, wrapup_s=2.0)
    assert (result.callers, result.answered, result.offers, result.unanswered_offers) == (3, 2, 3, 1)
    assert result.asa_s == pytest.approx((15.0, 17.6))
    assert result.ring_s == pytest.approx((2.0, 3.0))
    assert result.dispatch_s == pytest.approx((0.0, 0.5, 15.6))  # a's second ring counts from its entry
    assert result.dispatch_queued_s == pytest.approx((0.0,))  # b waited: free at 40 + 2 s, rang at 42
    assert result.dispatch_idle_s == pytest.approx((0.5, 15.6))
    assert result.gap_queued_s == pytest.approx((2.0,))
    assert result.inversions == 0


def test_inversions_count_callers_rung_before_someone_who_came_earlier() -> None:
    entered = {"a": 1.0, "b": 2.0, "c": 3.0}
    fifo = [_offer("a", 5.0, None, None), _offer("b", 6.0, None, None), _offer("c", 7.0, None, None)]
    assert order_inversions(fifo, entered) == 0
    c_first = [_offer("c", 5.0, None, None), _offer("a", 6.0, None, None), _offer("b", 7.0, None, None)]
    assert order_inversions(c_first, entered) == 2
    re_rung = [*fifo, _offer("a", 9.0, None, None)]  # a later ring of the same caller does not count
    assert order_inversions(re_rung, entered) == 0


def test_percentiles_and_shares() -> None:
    values = [float(v) for v in range(1, 11)]
    assert pct(values, 50) == 5.0
    assert pct(values, 99) == 10.0
    assert pct([], 50) is None
    assert share_within(values, 9.0) == pytest.approx(0.9)
    assert share_within([], 9.0) is None
