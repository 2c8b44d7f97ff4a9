"""After a scale-out run: exactly-once offers, dispatch latency, calls per node, CDR = store per node and
PostgreSQL writes per call (pure parts of bench.cluster)."""

from __future__ import annotations

import pytest

from bench.cluster_checks import (
    LOST_RACE,
    OfferSpan,
    PgCounters,
    calls_per_node,
    dispatch_latencies,
    kinds_per_node,
    node_of,
    node_problems,
    overlapping_offers,
    parse_counters,
    rung,
    writes_per_call,
)
from bench.load_plan import KINDS, caller_number
from bench.reconcile import CdrLeg, StoreCall


def _offer(
    oid: int, agent: str, start: float, end: float | None, outcome: str | None = "answered", call: str = ""
) -> OfferSpan:
    return OfferSpan(oid, call or f"call{oid}", agent, start, end, outcome)


def test_back_to_back_offers_of_one_agent_do_not_overlap() -> None:
    offers = [_offer(1, "3301", 0.0, 10.0), _offer(2, "3301", 10.0, 20.0), _offer(3, "3302", 5.0, 15.0)]
    assert overlapping_offers(offers) == []


def test_a_second_ring_before_the_first_ended_is_an_overlap() -> None:
    first, second = _offer(1, "3301", 0.0, 10.0), _offer(2, "3301", 9.5, 12.0)
    assert overlapping_offers([second, first]) == [(first, second)]


def test_an_offer_inside_a_long_one_overlaps_even_after_a_short_one() -> None:
    long, short, inside = _offer(1, "a", 0.0, 30.0), _offer(2, "a", 1.0, 2.0), _offer(3, "a", 5.0, 6.0)
    pairs = overlapping_offers([long, short, inside])
    assert (long, inside) in pairs and (long, short) in pairs


def test_an_offer_still_open_overlaps_every_later_one() -> None:
    open_offer, later = _offer(1, "a", 0.0, None, None), _offer(2, "a", 100.0, 110.0)
    assert overlapping_offers([open_offer, later]) == [(open_offer, later)]


def test_a_lost_reservation_race_is_not_a_ring() -> None:
    ringing = _offer(1, "a", 0.0, 10.0)
    lost = _offer(2, "a", 3.0, 3.0, LOST_RACE)
    assert overlapping_offers([ringing, lost]) == []
    assert rung([ringing, lost]) == [ringing]
    long_lost = _offer(3, "a", 4.0, 5.0, LOST_RACE)  # it lasted: it may have rung, so it counts
    assert overlapping_offers([ringing, long_lost]) == [(ringing, long_lost)]


def test_dispatch_latency_is_queue_entry_to_the_first_ring() -> None:
    offers = [
        _offer(1, "a", 105.0, 106.0, "no answer", call="c1"),
        _offer(2, "b", 103.0, 103.0, LOST_RACE, call="c1"),  # not a ring
        _offer(3, "b", 107.0, 120.0, call="c1"),
        _offer(4, "a", 200.5, 210.0, call="c2"),
        _offer(5, "a", 300.0, 310.0, call="never-queued"),
    ]
    assert sorted(dispatch_latencies({"c1": 100.0, "c2": 200.0, "c3": 250.0}, offers)) == [0.5, 5.0]


CALLS = [
    StoreCall("1", "node1-100.1", "920100001", "completed", True),
    StoreCall("2", "node2-100.2", "920100002", "completed", True),
    StoreCall("3", "node1-100.3", "910000003", "completed", True),
]


def test_calls_are_counted_by_the_node_their_channel_names() -> None:
    assert node_of("node1-100.1", ["node1", "node11"]) == "node1"
    assert node_of("node11-100.1", ["node1", "node11"]) == "node11"
    assert calls_per_node(CALLS, ["node1", "node2"]) == {"node1": 2, "node2": 1}
    stray = StoreCall("4", "other-1.1", "9", None, False)
    assert calls_per_node([*CALLS, stray], ["node1", "node2"]) == {"node1": 2, "node2": 1, "?": 1}


def _legs(*uids: str) -> dict[str, CdrLeg]:
    return {u: CdrLeg(u, "920100001", ("ANSWERED",)) for u in uids}


def test_each_call_is_in_its_own_nodes_cdr() -> None:
    legs = {"node1": _legs("node1-100.1", "node1-100.3"), "node2": _legs("node2-100.2")}
    assert node_problems(legs, CALLS) == []


def test_a_call_missing_from_its_nodes_cdr_or_a_cdr_leg_without_a_call_is_named() -> None:
    legs = {"node1": _legs("node1-100.1", "node1-100.9"), "node2": _legs("node2-100.2", "node1-100.3")}
    problems = node_problems(legs, CALLS)
    assert any("store 3" in p and "node1's CDR" in p for p in problems), problems
    assert any("node1-100.9" in p for p in problems), problems
    assert len(problems) == 2, problems


def test_pg_counters_parse_and_subtract() -> None:
    before, after = parse_counters("10|5|3|1\n"), parse_counters("110|65|43|1")
    assert after.minus(before) == PgCounters(100, 60, 40, 0)
    assert after.minus(before).rows_written == 100
    with pytest.raises(ValueError):
        parse_counters("1|2")


def test_writes_per_call_take_out_the_idle_rate_and_the_benchs_own_reads() -> None:
    idle = PgCounters(20, 10, 10, 0)  # 10 s idle: 2 commits/s, 2 rows/s
    during = PgCounters(1000 + 60 + 5, 400, 230, 0)  # 30 s: 60 idle commits, 60 idle rows; 5 bench reads
    writes = writes_per_call(idle, 10.0, during, 30.0, calls=50, own_reads=5)
    assert writes.commits == pytest.approx(20.0)
    assert writes.rows == pytest.approx(11.4)
    assert (writes.idle_commits_per_s, writes.idle_rows_per_s) == (2.0, 2.0)
    with pytest.raises(ValueError):
        writes_per_call(idle, 10.0, during, 30.0, calls=0)


def test_calls_per_node_by_kind_tell_which_node_got_the_queue_callers() -> None:
    status, agent = KINDS[0], KINDS[1]
    calls = [
        StoreCall("1", "node1-1.1", caller_number(agent, 0, 2.0), "completed", True),
        StoreCall("2", "node1-1.2", caller_number(agent, 1, 2.0), "completed", True),
        StoreCall("3", "node2-1.3", caller_number(status, 2), "completed", True),
        StoreCall("4", "node2-1.4", "0312240001", "completed", True),  # not of this mix
    ]
    assert kinds_per_node(calls, ["node1", "node2"], [status, agent]) == {
        "node1": {"agent": 2},
        "node2": {"status": 1},
    }
