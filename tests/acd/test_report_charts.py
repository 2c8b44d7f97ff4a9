"""The report page's chart figures: filters, SL by hour, ring histogram, abandon buckets, CSAT, staffing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from acd.metrics import AgentInterval, CallFact, OfferFact, ServiceStandard
from acd.report_charts import (
    abandon_buckets,
    agents_logged_in,
    build_charts,
    ring_bin,
    ring_histogram,
    select_calls,
)
from acd.staffing import agents_needed

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
STANDARD = ServiceStandard(ring_cycle_s=3.0, target_rings=3)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def answered(
    id: str,
    start: float,
    *,
    asa: float,
    ring: float,
    agent: str,
    queue: str = "orders",
    csat: int | None = 4,
    rung_first: str | None = None,
) -> CallFact:
    queued, answer = start + 5, start + 5 + asa
    offers: tuple[OfferFact, ...] = (
        OfferFact(agent, at(answer - ring), at(answer), at(answer + 90), "answered"),
    )
    if rung_first is not None:
        offers = (OfferFact(rung_first, at(queued), None, at(queued + 1), "no_answer"), *offers)
    return CallFact(
        id,
        queue,
        at(start),
        ivr_answered_at=at(start + 1),
        queued_at=at(queued),
        agent=agent,
        agent_answered_at=at(answer),
        ended_at=at(answer + 90),
        outcome="completed",
        offers=offers,
        talk_s=90,
        wrapup_s=30,
        csat=csat,
    )


def abandoned(id: str, start: float, *, waited: float, queue: str = "orders") -> CallFact:
    return CallFact(
        id, queue, at(start), queued_at=at(start + 5), ended_at=at(start + 5 + waited), outcome="abandoned"
    )


FACTS = [
    answered("a", 0, asa=4, ring=4, agent="a1", csat=5),  # 1.33 rings → bin 2, within target
    answered("b", 100, asa=20, ring=12, agent="a2", csat=2, rung_first="a1"),  # 4 rings → bin 4
    answered("c", 3700, asa=2, ring=3, agent="a1", queue="returns", csat=None),  # exactly 1 ring → bin 1
    abandoned("d", 200, waited=30),
    abandoned("e", 300, waited=2),  # a short abandon
    abandoned("before", -10, waited=30),  # before the window
]
SINCE, UNTIL = at(0), at(7200)


def charts(**kw: object) -> dict[str, Any]:
    args: dict[str, object] = {"since": SINCE, "until": UNTIL, "ring_cycle_s": 3.0, "target_rings": 3}
    args.update(kw)
    return build_charts(FACTS, sim_calls=200, **args)  # type: ignore[arg-type]


def test_filters_select_window_queue_and_agent() -> None:

    def ids(**kw: str) -> list[str]:
        return [c.id for c in select_calls(FACTS, since=SINCE, until=UNTIL, **kw)]

    assert ids() == ["a", "b", "c", "d", "e"]
    assert ids(queue="returns") == ["c"]
    assert ids(agent="a1") == ["a", "b", "c"]  # b only rang a1
    assert ids(agent="a2", queue="orders") == ["b"]


def test_is_json_ready_and_echoes_its_inputs() -> None:
    result = charts(queue="orders", agent="a1")
    assert json.loads(json.dumps(result)) == result
    assert (result["queue"], result["agent"], result["target_s"]) == ("orders", "a1", 9.0)
    assert result["since"] == "2026-12-01T09:00:00Z"


def test_sl_by_hour_counts_each_hour_of_arrival() -> None:
    hours = charts()["sl_by_hour"]
    assert [(h["hour"], h["offered"], h["answered"]) for h in hours] == [
        ("2026-12-01T09:00:00Z", 4, 2),
        ("2026-12-01T10:00:00Z", 1, 1),
    ]
    nine, ten = hours
    assert nine["sl"] == 0.5  # a within 9 s, b waited 20 s
    assert ten["sl"] == 1.0
    assert nine["abandoned"] == 1  # the short abandon is not an abandon


def test_ring_bins_follow_the_reports_buckets() -> None:
    assert [ring_bin(r) for r in (0.0, 0.5, 1.0, 1.0000000001, 1.34, 3.0, 3.01)] == [1, 1, 1, 1, 2, 3, 4]


def test_ring_histogram_with_overflow_and_target_share() -> None:
    offers = [o for c in FACTS for o in c.offers if o.answered_at is not None]
    long_ring = OfferFact("a9", at(0), at(40))  # 13.3 rings: beyond the last bin
    hist = ring_histogram([*offers, long_ring], STANDARD)
    counts = [b["count"] for b in hist["bins"]]
    assert counts == [1, 1, 0, 1, 0, 0, 1]  # bins 1..6, then more than 6
    assert hist["bins"][-1] == {"from_rings": 6, "to_rings": None, "count": 1}
    assert (hist["target_rings"], hist["answered"], hist["within_target"]) == (3, 4, 2)
    assert hist["share_within_target"] == 0.5


def test_ring_histogram_for_an_agent_counts_their_answered_offers() -> None:
    result = charts(agent="a1")["rings"]
    assert result["answered"] == 2  # a and c; b's ring to a1 was not answered


def test_abandon_buckets_separate_short_abandons() -> None:
    result = abandon_buckets(FACTS[:5], short_abandon_s=5.0)
    edges = [(b["from_s"], b["to_s"]) for b in result["buckets"]]
    assert edges[:3] == [(0.0, 5.0), (5.0, 10.0), (10.0, 20.0)]
    assert edges[-1] == (300.0, None)
    counts = {(b["from_s"], b["to_s"]): b["count"] for b in result["buckets"]}
    assert counts[(0.0, 5.0)] == 1 and counts[(30.0, 60.0)] == 1
    assert [b["short"] for b in result["buckets"]][:2] == [True, False]
    assert (result["abandons"], result["short_abandons"]) == (2, 1)


def test_csat_by_queue_and_agent() -> None:
    csat = charts()["csat"]
    by_queue = {q["name"]: q for q in csat["by_queue"]}
    assert by_queue["orders"]["responses"] == 2 and by_queue["orders"]["mean"] == 3.5
    assert by_queue["orders"]["scores"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    assert by_queue["returns"]["responses"] == 0 and by_queue["returns"]["mean"] is None
    by_agent = {a["name"]: a for a in csat["by_agent"]}
    assert by_agent["a1"]["scores"]["5"] == 1 and by_agent["a1"]["share_satisfied"] == 1.0
    assert by_agent["a2"]["mean"] == 2.0


def test_figures_tables_follow_the_filters() -> None:
    figures = charts(queue="returns")["figures"]
    assert list(figures["queues"]) == ["returns"]
    assert figures["overall"]["offered"] == 1
    assert list(charts(agent="a2")["figures"]["agents"]) == ["a2"]


def test_agents_logged_in_is_a_time_weighted_mean() -> None:
    intervals = [
        AgentInterval("a1", "available", at(0), at(3600)),
        AgentInterval("a2", "on_call", at(0), at(1800)),
        AgentInterval("a2", "logged_out", at(1800), at(3600)),
    ]
    assert agents_logged_in(intervals, at(0), at(3600)) == pytest.approx(1.5)
    assert agents_logged_in(intervals, at(1800), at(3600)) == pytest.approx(1.0)
    assert agents_logged_in(intervals, at(10), at(10)) is None


def test_staffing_advice_beside_agents_logged_in() -> None:
    busy = [answered(f"x{i}", i * 60.0, asa=3, ring=3, agent="a1") for i in range(30)]
    intervals = [AgentInterval("a1", "available", at(0), at(7200))]
    result = build_charts(
        busy,
        since=SINCE,
        until=at(3600),
        ring_cycle_s=3.0,
        target_rings=3,
        intervals=intervals,
        sim_calls=200,
    )
    [row] = result["staffing"]["rows"]
    [hour] = result["staffing"]["by_hour"]
    assert row["queue"] == "orders" and row["offered"] == 30
    expected = agents_needed(30 / 3600, 120.0, 9.0, 0.8)  # 30 calls in the hour, AHT 90 + 30 s
    assert row["agents_needed_erlang"] == expected
    assert hour == {
        "hour": "2026-12-01T09:00:00Z",
        "calls_per_h": 30.0,
        "aht_s": 120.0,
        "agents_needed": expected,
        "agents_logged_in": 1.0,
    }


def test_staffing_ignores_the_agent_filter_but_keeps_the_queue() -> None:
    assert {r["queue"] for r in charts(agent="a2")["staffing"]["rows"]} == {"orders", "returns"}
    assert {r["queue"] for r in charts(queue="returns")["staffing"]["rows"]} == {"returns"}


def test_a_call_outside_the_filter_changes_nothing() -> None:
    before = charts(queue="orders")
    extra = replace(FACTS[0], id="zz", queue="returns")
    after = build_charts(
        [*FACTS, extra],
        since=SINCE,
        until=UNTIL,
        ring_cycle_s=3.0,
        target_rings=3,
        queue="orders",
        sim_calls=200,
    )
    assert after == before
