"""The report dict (shape, window, rounding, JSON) and its plain-text rendering."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from acd.metrics import AgentInterval, CallFact, OfferFact
from acd.report import build_report, format_report

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GROUP_KEYS = {
    "offered",
    "answered",
    "abandoned",
    "short_abandons",
    "callbacks",
    "answered_within_target",
    "share_within_target",
    "ring_distribution",
    "sl",
    "sl2",
    "asa_s",
    "aht_s",
    "longest_wait_s",
    "abandonment_rate",
    "occupancy",
    "csat",
    "ivr_pickup_s",
}


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def answered(
    id: str, start: float, *, asa: float, ring: float, agent: str, queue: str = "orders"
) -> CallFact:
    queued, answer = start + 5, start + 5 + asa
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
        offers=(OfferFact(agent, at(answer - ring), at(answer), at(answer + 90), "answered"),),
        talk_s=90,
        wrapup_s=30,
        csat=4,
    )


def abandoned(id: str, start: float, *, waited: float, queue: str = "orders") -> CallFact:
    return CallFact(
        id, queue, at(start), queued_at=at(start + 5), ended_at=at(start + 5 + waited), outcome="abandoned"
    )


FACTS = [
    answered("a", 0, asa=4, ring=4, agent="a1"),  # 1.333 rings: bucket "2"
    answered("b", 100, asa=20, ring=12, agent="a2"),  # outside the target both ways
    answered("c", 3700, asa=2, ring=2, agent="a1", queue="returns"),  # 10:00
    abandoned("d", 200, waited=30),
    abandoned("before", -10, waited=30),  # arrived before `since`
    abandoned("at-until", 7200, waited=30),  # arrived exactly at `until`
]
INTERVALS = [
    AgentInterval("a1", "available", at(-3600), at(1800)),  # the hour before `since` is clipped away
    AgentInterval("a1", "on_call", at(1800), at(3600)),
    AgentInterval("a1", "available", at(3600), at(7200)),
]


def test_shape_is_json_ready() -> None:
    result = build_report(
        FACTS, since=T0, until=at(7200), ring_cycle_s=3.0, target_rings=3, intervals=INTERVALS
    )
    assert json.loads(json.dumps(result)) == result
    assert (result["since"], result["until"]) == ("2026-12-01T09:00:00Z", "2026-12-01T11:00:00Z")
    assert (result["ring_cycle_s"], result["target_rings"], result["target_s"]) == (3.0, 3, 9.0)
    assert set(result["overall"]) == GROUP_KEYS
    assert set(result["queues"]) == {"orders", "returns"}
    assert all(set(q) == GROUP_KEYS for q in result["queues"].values())
    assert [h["hour"] for h in result["hours"]] == ["2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"]
    assert all(set(h) == GROUP_KEYS | {"hour"} for h in result["hours"])
    assert set(result["agents"]) == {"a1", "a2"}
    assert set(result["agents"]["a1"]) == {
        "offered",
        "answered",
        "no_answer",
        "ring_to_answer_s_mean",
        "share_within_target",
        "aht_s",
        "occupancy",
        "csat",
    }
    assert [(s["queue"], s["hour"]) for s in result["staffing"]] == [
        ("orders", "2026-12-01T09:00:00Z"),
        ("returns", "2026-12-01T10:00:00Z"),
    ]


def test_figures_window_and_rounding() -> None:
    result = build_report(
        FACTS, since=T0, until=at(7200), ring_cycle_s=3.0, target_rings=3, intervals=INTERVALS
    )
    overall = result["overall"]
    assert overall["offered"] == 4  # "before" and "at-until" are outside [since, until)
    assert (overall["answered"], overall["abandoned"]) == (3, 1)
    assert overall["ring_distribution"] == {"1": 1, "2": 1, "3": 0, "4+": 1}
    assert overall["share_within_target"] == 0.667  # 2 of 3, rounded to 3 decimals
    assert overall["sl"] == 0.667 and overall["sl2"] == 0.5  # (2 + 0) ÷ (3 + 1)
    assert overall["asa_s"] == 8.667  # (4 + 20 + 2) / 3
    assert overall["aht_s"] == 120.0
    assert overall["abandonment_rate"] == 0.25
    assert overall["ivr_pickup_s"] == {"p50": 1.0, "p90": 1.0}
    assert overall["csat"] == {"responses": 3, "mean": 4.0, "share_satisfied": 1.0}
    assert overall["occupancy"] == 0.25  # 1800 s on call of 7200 s logged in inside the window
    assert result["queues"]["orders"]["occupancy"] is None  # agents are not tied to one queue
    nine, ten = result["hours"]
    assert (nine["offered"], ten["offered"]) == (3, 1)
    assert (nine["occupancy"], ten["occupancy"]) == (0.5, 0.0)
    a1 = result["agents"]["a1"]
    assert (a1["offered"], a1["answered"], a1["ring_to_answer_s_mean"]) == (2, 2, 3.0)
    assert a1["occupancy"] == 0.25
    assert result["agents"]["a2"]["share_within_target"] == 0.0
    assert result["agents"]["a2"]["occupancy"] is None
    staffing = result["staffing"][0]
    assert staffing["offered"] == 3 and staffing["arrival_rate_per_h"] == 3.0 and staffing["aht_s"] == 120.0
    assert staffing["agents_needed_erlang"] >= 1


def test_open_window_and_no_calls() -> None:
    empty = build_report([], since=None, until=None, ring_cycle_s=6.0, target_rings=3)
    assert (empty["since"], empty["until"], empty["target_s"]) == (None, None, 18.0)
    assert empty["overall"]["offered"] == 0 and empty["overall"]["sl"] is None
    assert empty["overall"]["csat"] == {"responses": 0, "mean": None, "share_satisfied": None}
    assert (empty["queues"], empty["agents"], empty["hours"], empty["staffing"]) == ({}, {}, [], [])
    text = format_report(empty)
    assert "overall" in text and "Staffing" not in text
    everything = build_report(FACTS, since=None, until=None, ring_cycle_s=3.0, target_rings=3)
    assert everything["overall"]["offered"] == 6


def test_plain_text_shows_figures_and_advice() -> None:
    result = build_report(
        FACTS, since=T0, until=at(7200), ring_cycle_s=3.0, target_rings=3, intervals=INTERVALS
    )
    text = format_report(result)
    lines = text.splitlines()
    overall_row = next(line for line in lines if line.startswith("overall"))
    assert "66.7%" in overall_row and "50.0%" in overall_row and "8.7" in overall_row
    assert any(line.startswith("returns") for line in lines)
    assert any(line.startswith("a2") for line in lines)
    assert any(line.startswith("2026-12-01T10:00:00Z") for line in lines)
    advice = next(line for line in lines if line.startswith("orders 2026-12-01T09:00:00Z"))
    assert str(result["staffing"][0]["agents_needed_erlang"]) in advice.split()
    assert "Rings to answer: 1: 1  2: 1  3: 0  4+: 1" in text
