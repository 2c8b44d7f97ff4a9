"""Figures from hand-built call facts whose answers are worked out in the comments."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from acd.metrics import (
    AgentInterval,
    CallFact,
    OfferFact,
    ServiceStandard,
    agent_figures,
    agents_seen,
    by_hour,
    by_queue,
    group_figures,
    hour_of,
    in_window,
    is_abandon,
    iso_utc,
    occupancy,
    percentile,
    ring_bucket,
    rings,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
JAPAN = ServiceStandard(ring_cycle_s=3.0, target_rings=3)  # target 9 s, short abandons < 5 s


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def answered_call(
    id: str,
    *,
    asa: float,
    ring: float,
    agent: str = "a1",
    talk: float | None = 60.0,
    hold: float = 0.0,
    wrapup: float | None = None,
    csat: int | None = None,
    earlier: tuple[OfferFact, ...] = (),
    queue: str = "orders",
    start: float = 0.0,
    kind: str = "call",
) -> CallFact:
    """Queued 10 s after arrival; the answered offer rang for ``ring`` s, ending at the answer."""
    queued = start + 10.0
    answer = queued + asa
    offer = OfferFact(agent, at(answer - ring), at(answer), at(answer + 100), "answered")
    return CallFact(
        id,
        queue,
        at(start),
        queued_at=at(queued),
        agent=agent,
        agent_answered_at=at(answer),
        ended_at=at(answer + 100),
        outcome="completed",
        offers=(*earlier, offer),
        talk_s=talk,
        hold_s=hold,
        wrapup_s=wrapup,
        csat=csat,
        kind=kind,
    )


def unanswered_call(
    id: str,
    *,
    waited: float | None,
    outcome: str | None = "abandoned",
    queue: str = "orders",
    start: float = 0.0,
) -> CallFact:
    """Queued 10 s after arrival, left the queue ``waited`` s later (None: still waiting)."""
    queued = start + 10.0
    ended = None if waited is None else at(queued + waited)
    return CallFact(id, queue, at(start), queued_at=at(queued), ended_at=ended, outcome=outcome)


def test_rings_and_buckets() -> None:
    assert rings(4.0, 3.0) == pytest.approx(1.3333, abs=1e-4)
    assert ring_bucket(4.0, 3.0) == "2"  # 1.333 rings
    assert ring_bucket(0.4, 3.0) == "1"
    assert ring_bucket(3.0, 3.0) == "1"  # exactly one ring is still the first ring
    assert ring_bucket(6.0, 3.0) == "2"
    assert ring_bucket(9.0, 3.0) == "3"
    assert ring_bucket(9.01, 3.0) == "4+"
    assert ring_bucket(12.0, 6.0) == "2"  # North American cadence: 6 s a ring


def test_a_bad_standard_is_refused() -> None:
    with pytest.raises(ValueError, match="ring_cycle_s"):
        ServiceStandard(ring_cycle_s=0.0, target_rings=3)
    with pytest.raises(ValueError):
        ServiceStandard(ring_cycle_s=3.0, target_rings=0)


def test_percentile_is_linear_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile([2.0, 0.5, 1.5, 1.0], 50) == pytest.approx(1.25)
    assert percentile([2.0, 0.5, 1.5, 1.0], 90) == pytest.approx(1.85)


def _day() -> list[CallFact]:
    a1_rona = OfferFact("a1", at(10), None, at(25), "no_answer")
    return [
        # ASA 6, rang 6 s ("2"), AHT 100+10+20 = 130, CSAT 5, IVR pick-up 0.5 s
        answered_call("A", asa=6, ring=6, talk=100, hold=10, wrapup=20, csat=5),
        # ASA 30 (outside SL) after a RONA on a1; a2 rang 10 s ("4+"), AHT 200, CSAT 3
        answered_call("B", asa=30, ring=10, agent="a2", talk=200, csat=3, earlier=(a1_rona,)),
        # ASA exactly 9 (inside), rang exactly 9 s ("3"), AHT 50+10 = 60
        answered_call("M", asa=9, ring=9, agent="a2", talk=50, wrapup=10),
        unanswered_call("C", waited=7),  # abandon within the target
        unanswered_call("D", waited=3),  # short abandon
        unanswered_call("E", waited=60, outcome=None),  # abandon (hang-up with no outcome recorded)
        unanswered_call("F", waited=40, outcome="voicemail"),
        unanswered_call("G", waited=50, outcome="callback"),
        unanswered_call("K", waited=None, outcome=None),  # still waiting
        unanswered_call("L", waited=20, outcome="failed"),
        CallFact("J", None, at(0), ivr_answered_at=at(2.0), ended_at=at(60), outcome="completed", csat=4),
        # callbacks: one kept (a1 rang 3 s), one failed; neither counts as offered or abandoned
        answered_call("H", asa=5, ring=3, agent="a1", talk=40, kind="callback"),
        CallFact("I", "orders", at(0), queued_at=at(1), ended_at=at(30), outcome="failed", kind="callback"),
    ]


def _with_pickups(facts: list[CallFact]) -> list[CallFact]:
    pickups = {"A": 0.5, "B": 1.5, "C": 1.0}
    return [replace(f, ivr_answered_at=at(pickups[f.id])) if f.id in pickups else f for f in facts]


def test_group_figures_of_a_mixed_day() -> None:
    figures = group_figures(_with_pickups(_day()), JAPAN, occupancy=0.42)
    assert figures.offered == 10  # every queued inbound call: A B M C D E F G K L (not J, H, I)
    assert figures.answered == 3
    assert figures.abandoned == 2  # C, E
    assert figures.short_abandons == 1  # D
    assert (figures.callbacks_requested, figures.callbacks_kept, figures.callbacks_failed) == (1, 1, 1)
    assert figures.ring_distribution == {"1": 0, "2": 1, "3": 1, "4+": 1}
    assert figures.answered_within_target == 2  # rings: A 6 s, M 9 s
    assert figures.share_within_target == pytest.approx(2 / 3)
    assert figures.sl == pytest.approx(2 / 3)  # ASA: A 6, M 9 within; B 30 not
    assert figures.sl2 == pytest.approx(3 / 5)  # (2 answered + C) ÷ (3 answered + C, E)
    assert figures.asa_s == pytest.approx(15.0)  # (6 + 30 + 9) / 3
    assert figures.aht_s == pytest.approx(130.0)  # (130 + 200 + 60) / 3
    assert figures.longest_wait_s == pytest.approx(60.0)
    assert figures.abandonment_rate == pytest.approx(2 / 9)  # 2 ÷ (10 offered − 1 short)
    assert figures.occupancy == 0.42
    assert figures.csat_responses == 3  # A 5, B 3, J 4
    assert figures.csat_mean == pytest.approx(4.0)
    assert figures.csat_share_satisfied == pytest.approx(2 / 3)
    assert figures.ivr_pickup_p50_s == pytest.approx(1.25)
    assert figures.ivr_pickup_p90_s == pytest.approx(1.85)


def test_no_calls_gives_none_not_zero_division() -> None:
    figures = group_figures([], JAPAN)
    assert (figures.offered, figures.answered, figures.abandoned, figures.short_abandons) == (0, 0, 0, 0)
    assert figures.ring_distribution == {"1": 0, "2": 0, "3": 0, "4+": 0}
    for value in (
        figures.sl,
        figures.sl2,
        figures.asa_s,
        figures.aht_s,
        figures.longest_wait_s,
        figures.abandonment_rate,
        figures.share_within_target,
        figures.csat_mean,
        figures.csat_share_satisfied,
        figures.ivr_pickup_p50_s,
        figures.ivr_pickup_p90_s,
        figures.occupancy,
    ):
        assert value is None


def test_all_abandoned() -> None:
    figures = group_figures([unanswered_call("x", waited=20), unanswered_call("y", waited=8)], JAPAN)
    assert figures.answered == 0 and figures.abandoned == 2
    assert figures.sl is None  # nothing answered
    assert figures.sl2 == pytest.approx(0.5)  # y abandoned within 9 s
    assert figures.abandonment_rate == 1.0
    assert figures.asa_s is None
    assert figures.longest_wait_s == 20.0


def test_short_abandons_are_left_out_of_both_service_levels() -> None:
    calls = [answered_call("a", asa=20, ring=2), unanswered_call("s", waited=4.9)]
    figures = group_figures(calls, JAPAN)
    assert figures.short_abandons == 1 and figures.abandoned == 0
    assert figures.sl == 0.0 and figures.sl2 == 0.0  # the short abandon would have made SL2 0.5
    assert figures.abandonment_rate == 0.0
    longer = ServiceStandard(3.0, 3, short_abandon_s=4.0)
    assert group_figures(calls, longer).sl2 == pytest.approx(0.5)


def test_callbacks_voicemail_and_failures_are_not_abandons() -> None:
    assert not is_abandon(unanswered_call("v", waited=30, outcome="voicemail"))
    assert not is_abandon(unanswered_call("c", waited=30, outcome="callback"))
    assert not is_abandon(unanswered_call("f", waited=30, outcome="failed:no agents"))
    assert not is_abandon(unanswered_call("w", waited=None, outcome=None))
    callback = CallFact(
        "cb", "orders", at(0), queued_at=at(1), ended_at=at(40), outcome="abandoned", kind="callback"
    )
    assert not is_abandon(callback)
    assert is_abandon(unanswered_call("a", waited=30))
    assert group_figures([callback], JAPAN).abandoned == 0


def test_agent_figures_include_callbacks_and_ronas() -> None:
    facts = _day()
    a1 = agent_figures(facts, "a1", JAPAN, occupancy=0.5)
    assert (a1.offered, a1.answered, a1.no_answer) == (3, 2, 1)  # A, B's RONA, callback H
    assert a1.ring_to_answer_s_mean == pytest.approx(4.5)  # (6 + 3) / 2
    assert a1.share_within_target == 1.0
    assert a1.aht_s == pytest.approx(85.0)  # A 130, H 40
    assert a1.csat_mean == 5.0 and a1.occupancy == 0.5
    a2 = agent_figures(facts, "a2", JAPAN)
    assert (a2.offered, a2.answered, a2.no_answer) == (2, 2, 0)
    assert a2.ring_to_answer_s_mean == pytest.approx(9.5)
    assert a2.share_within_target == pytest.approx(0.5)  # 9 s yes, 10 s no
    assert a2.aht_s == pytest.approx(130.0)
    assert a2.csat_share_satisfied == 0.0  # only B's 3
    nobody = agent_figures(facts, "a9", JAPAN)
    assert nobody.offered == 0 and nobody.ring_to_answer_s_mean is None and nobody.aht_s is None


def test_occupancy_counts_on_call_and_wrap_up_over_logged_in_time() -> None:
    intervals = [
        AgentInterval("a1", "available", at(0), at(600)),
        AgentInterval("a1", "on_call", at(600), at(1200)),
        AgentInterval("a1", "wrap_up", at(1200), at(1500)),
        AgentInterval("a1", "paused", at(1500), at(1800)),
        AgentInterval("a1", "logged_out", at(1800), at(3600)),
        AgentInterval("a2", "on_call", at(0), at(1800)),
    ]
    assert occupancy(intervals, agent="a1") == pytest.approx(0.5)  # 900 busy of 1800 logged in
    assert occupancy(intervals, agent="a1", since=at(900)) == pytest.approx(600 / 900)
    assert occupancy(intervals, agent="a1", until=at(600)) == 0.0
    assert occupancy(intervals) == pytest.approx(2700 / 3600)
    assert occupancy(intervals, agent="a1", since=at(1800)) is None  # only logged out
    assert occupancy([]) is None


def test_window_is_by_arrival_half_open() -> None:
    call = unanswered_call("x", waited=5, start=0)
    assert in_window(call, at(0), at(10))
    assert not in_window(call, at(-10), at(0))  # arrived exactly at `until`: next window
    assert not in_window(call, at(1), None)
    assert in_window(call, None, None)
    naive = CallFact("n", None, datetime(2026, 12, 1, 9, 0))  # naive datetimes are taken as UTC
    assert in_window(naive, at(0), at(1))


def test_hours_are_utc_and_groups_sorted() -> None:
    tokyo = timezone(timedelta(hours=9))
    assert iso_utc(hour_of(datetime(2026, 12, 1, 18, 30, 5, tzinfo=tokyo))) == "2026-12-01T09:00:00Z"
    facts = [
        unanswered_call("late", waited=9, start=3700, queue="returns"),
        unanswered_call("early", waited=9, start=10),
        CallFact("ivr-only", None, at(20)),
    ]
    hours = by_hour(facts)
    assert [iso_utc(h) for h in hours] == ["2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"]
    assert [c.id for c in hours[T0]] == ["early", "ivr-only"]
    assert list(by_queue(facts)) == ["orders", "returns"]
    intervals = [AgentInterval("z9", "available", at(0), at(5))]
    assert agents_seen(_day(), intervals) == ["a1", "a2", "z9"]
