"""Store rows and the agent state log → report facts and intervals; ``report_for`` over a fake store."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from acd.metrics import AgentInterval, handle_time_s, is_abandon
from acd.report_source import (
    facts_from_rows,
    intervals_from_log,
    report_for,
    wrapups_from_log,
)
from ivr.store.agent_states import AgentStateRecord
from ivr.store.report_rows import ReportOffer, ReportRow
from tests.acd.builders import T0, at, report_row


def row(call_id: str = "c1", **kw: Any) -> ReportRow:
    return report_row(call_id, **kw)


def state(agent: str, name: str, seconds: float, call_id: str | None = None) -> AgentStateRecord:
    return AgentStateRecord(agent, name, None, call_id, at(seconds))


# --- facts ------------------------------------------------------------------------------------------


def test_answered_call_takes_times_from_the_answered_offer() -> None:
    offers = (
        ReportOffer("2101", at(11), None, at(26), "no_answer"),
        ReportOffer("2102", at(27), at(31), at(191), "answered"),
    )
    [fact] = facts_from_rows([row(agent="2102", offers=offers, survey_score=5)])

    assert fact.arrived_at == at(0)
    assert fact.ivr_answered_at == at(0.5)
    assert fact.queued_at == at(10)
    assert fact.agent == "2102"
    assert fact.agent_answered_at == at(31)
    assert fact.talk_s == 160.0
    assert fact.wrapup_s is None
    assert fact.csat == 5
    assert fact.kind == "call"
    assert [o.agent for o in fact.offers] == ["2101", "2102"]
    assert fact.offers[0].outcome == "no_answer"
    assert handle_time_s(fact) == 160.0


def test_answered_offer_still_talking_has_no_talk_time() -> None:
    offers = (ReportOffer("2102", at(27), at(31), None, None),)
    [fact] = facts_from_rows([row(agent="2102", offers=offers, ended_at=None, outcome=None)])
    assert fact.agent_answered_at == at(31)
    assert fact.talk_s is None


def test_agent_falls_back_to_the_answered_offer() -> None:
    offers = (ReportOffer("2102", at(27), at(31), at(40), "answered"),)
    [fact] = facts_from_rows([row(agent=None, offers=offers)])
    assert fact.agent == "2102"


def test_unanswered_call_has_no_agent_times() -> None:
    offers = (ReportOffer("2101", at(11), None, at(26), "no_answer"),)
    [fact] = facts_from_rows([row(offers=offers, outcome="abandoned", ended_at=at(30))])
    assert fact.agent_answered_at is None
    assert fact.talk_s is None
    assert is_abandon(fact)


def test_callback_request_is_not_an_abandon_even_if_the_flow_went_on() -> None:
    requested, plain = facts_from_rows(
        [
            row("c1", outcome="completed", callback_status="pending"),
            row("c2", outcome="callback", callback_status=None),
        ]
    )
    assert requested.outcome == "callback"
    assert not is_abandon(requested)
    assert plain.outcome == "callback"


def test_answered_call_keeps_its_outcome_despite_a_callback_row() -> None:
    offers = (ReportOffer("2102", at(27), at(31), at(40), "answered"),)
    [fact] = facts_from_rows([row(agent="2102", offers=offers, callback_status="pending")])
    assert fact.outcome == "completed"


def test_wrapup_comes_from_closed_wrap_up_records_of_the_call_and_its_agent() -> None:
    log = [
        state("2102", "on_call", 31, "c1"),
        state("2102", "wrap_up", 191, "c1"),
        state("2103", "wrap_up", 100, "c1"),  # another agent: not this call's wrap-up
        state("2102", "available", 221),
        state("2103", "available", 400),
        state("2104", "wrap_up", 200, "c2"),  # still open at the end of the log: unknown
    ]
    wrapups = wrapups_from_log(log)
    assert wrapups == {("c1", "2102"): 30.0, ("c1", "2103"): 300.0}

    offers1 = (ReportOffer("2102", at(27), at(31), at(191), "answered"),)
    offers2 = (ReportOffer("2104", at(27), at(31), at(200), "answered"),)
    c1, c2 = facts_from_rows(
        [row("c1", agent="2102", offers=offers1), row("c2", agent="2104", offers=offers2)], wrapups
    )
    assert c1.wrapup_s == 30.0
    assert handle_time_s(c1) == 190.0
    assert c2.wrapup_s is None


# --- intervals --------------------------------------------------------------------------------------


def test_intervals_run_to_the_next_change_and_the_last_closes_at_until() -> None:
    log = [
        state("2101", "available", -600),  # before the window: the state it was in at the start
        state("2102", "paused", 0),
        state("2101", "on_call", 60, "c1"),
        state("2101", "wrap_up", 120, "c1"),
        state("2101", "available", 150),
    ]
    assert intervals_from_log(log, at(200)) == [
        AgentInterval("2101", "available", at(-600), at(60)),
        AgentInterval("2101", "on_call", at(60), at(120)),
        AgentInterval("2101", "wrap_up", at(120), at(150)),
        AgentInterval("2101", "available", at(150), at(200)),
        AgentInterval("2102", "paused", at(0), at(200)),
    ]


def test_reason_changes_merge_and_empty_spans_drop() -> None:
    log = [
        AgentStateRecord("2101", "paused", "lunch", None, at(0)),
        AgentStateRecord("2101", "paused", "meeting", None, at(30)),
        AgentStateRecord("2101", "available", None, None, at(90)),
        AgentStateRecord("2101", "on_call", None, "c1", at(90)),
        AgentStateRecord("2102", "available", None, None, at(500)),  # after until: nothing
    ]
    assert intervals_from_log(log, at(100)) == [
        AgentInterval("2101", "paused", at(0), at(90)),
        AgentInterval("2101", "on_call", at(90), at(100)),
    ]


def test_empty_log() -> None:
    assert intervals_from_log([], at(100)) == []
    assert wrapups_from_log([]) == {}


# --- report_for -------------------------------------------------------------------------------------


class FakeStore:
    def __init__(self, rows: list[ReportRow], log: list[AgentStateRecord]) -> None:
        self.rows, self.log = rows, log
        self.asked: list[tuple[str, datetime | None, datetime | None]] = []

    async def report_rows(self, since: datetime | None, until: datetime | None) -> list[ReportRow]:
        self.asked.append(("rows", since, until))
        return self.rows

    async def agent_state_log(self, since: datetime | None, until: datetime | None) -> list[AgentStateRecord]:
        self.asked.append(("log", since, until))
        return self.log


async def test_report_for_reads_the_window_and_builds_the_report() -> None:
    offers = (ReportOffer("2102", at(12), at(16), at(116), "answered"),)
    store = FakeStore(
        [
            row("c1", agent="2102", offers=offers, survey_score=4),
            row("c2", queued_at=at(100), ended_at=at(130), outcome="abandoned"),
        ],
        [
            state("2102", "available", 0),
            state("2102", "on_call", 16, "c1"),
            state("2102", "wrap_up", 116, "c1"),
            state("2102", "available", 136),
        ],
    )
    since, until = T0, T0 + timedelta(hours=1)

    report = await report_for(
        store,
        since=since,
        until=until,
        ring_cycle_s=3.0,
        target_rings=3,
        short_abandon_s=5.0,
        now=T0 + timedelta(minutes=10),
    )

    assert store.asked == [("rows", since, until), ("log", since, until)]
    overall = report["overall"]
    assert (overall["offered"], overall["answered"], overall["abandoned"]) == (2, 1, 1)
    assert overall["aht_s"] == 120.0  # 100 s talk + 20 s wrap-up
    assert overall["csat"]["mean"] == 4.0
    # logged in 600 s (closed at now, before until), busy 100 s on call + 20 s wrap-up
    assert report["agents"]["2102"]["occupancy"] == 0.2
    assert report["agents"]["2102"]["share_within_target"] == 1.0


async def test_report_for_without_until_closes_intervals_at_now() -> None:
    store = FakeStore([], [state("2101", "on_call", 0, "c9"), state("2101", "available", 1800)])
    report = await report_for(
        store,
        since=T0,
        until=None,
        ring_cycle_s=3.0,
        target_rings=3,
        short_abandon_s=5.0,
        now=T0 + timedelta(hours=1),
    )
    assert report["until"] is None
    assert report["agents"]["2101"]["occupancy"] == 0.5
