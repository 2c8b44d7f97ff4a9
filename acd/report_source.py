"""Store rows → report facts, and ``report_for``: the service report over a window, read from the store.

The conversions are pure; ``report_for`` is the one I/O edge (two reads, then ``build_report`` in a
worker thread because the staffing simulation can take a second). What is derived and how is in
docs/metrics.md "From the store".
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from acd.metrics import AgentInterval, CallFact, OfferFact, as_utc, seconds_between
from acd.report import build_report
from ivr.store.agent_states import AgentStateRecord
from ivr.store.report_rows import ReportOffer, ReportRow

WRAP_UP_STATE = "wrap_up"
CALLBACK_OUTCOME = "callback"


class ReportStore(Protocol):
    """What ``report_for`` reads (``CallStore`` has both)."""

    async def report_rows(self, since: datetime | None, until: datetime | None) -> list[ReportRow]: ...

    async def agent_state_log(
        self, since: datetime | None, until: datetime | None
    ) -> list[AgentStateRecord]: ...


# --- agent state log --------------------------------------------------------------------------------


def _spans(
    log_records: Iterable[AgentStateRecord], until: datetime | None
) -> list[tuple[AgentStateRecord, datetime, bool]]:
    """Each record with the time it ended (the agent's next record, else ``until``) and whether a next
    record closed it. With ``until`` None the last record of each agent has no span."""
    last: dict[str, AgentStateRecord] = {}
    spans: list[tuple[AgentStateRecord, datetime, bool]] = []
    for record in log_records:
        previous = last.get(record.agent)
        if previous is not None:
            spans.append((previous, as_utc(record.at), True))
        last[record.agent] = record
    if until is not None:
        spans.extend((record, as_utc(until), False) for record in last.values())
    return spans


def intervals_from_log(log_records: Iterable[AgentStateRecord], until: datetime) -> list[AgentInterval]:
    """The ordered state log (oldest first) as intervals: each state lasts until the agent's next
    change; each agent's last state is closed at ``until``. Empty spans are dropped and back-to-back
    spans in the same state (a reason change) merged. Sorted by agent, then start."""
    by_agent: dict[str, list[AgentInterval]] = {}
    for record, end, _closed in _spans(log_records, until):
        start = as_utc(record.at)
        if end <= start:
            continue
        agent_intervals = by_agent.setdefault(record.agent, [])
        if agent_intervals and agent_intervals[-1].state == record.state and agent_intervals[-1].end == start:
            previous = agent_intervals[-1]
            agent_intervals[-1] = AgentInterval(previous.agent, previous.state, previous.start, end)
        else:
            agent_intervals.append(AgentInterval(record.agent, record.state, start, end))
    return [interval for agent in sorted(by_agent) for interval in by_agent[agent]]


def wrapups_from_log(log_records: Iterable[AgentStateRecord]) -> dict[tuple[str, str], float]:
    """Seconds of wrap-up per (call id, agent): ``wrap_up`` records carry the call they follow.

    Only wrap-ups the log shows ending (a later change of that agent) count: one still open at the
    end of the log has no known length."""
    totals: dict[tuple[str, str], float] = {}
    for record, end, closed in _spans(log_records, None):
        if not closed or record.state != WRAP_UP_STATE or record.call_id is None:
            continue
        seconds = (end - as_utc(record.at)).total_seconds()
        if seconds > 0:
            key = (record.call_id, record.agent)
            totals[key] = totals.get(key, 0.0) + seconds
    return totals


# --- calls ------------------------------------------------------------------------------------------


def _offer_fact(offer: ReportOffer) -> OfferFact:
    return OfferFact(offer.agent, offer.ring_started_at, offer.answered_at, offer.ended_at, offer.outcome)


def _outcome(row: ReportRow, agent_answered: bool) -> str | None:
    """A caller who asked for a callback and was not answered by an agent counts as a callback
    request even if the flow went on (a survey sets ``completed``): otherwise it reads as an abandon."""
    if row.has_callback and not agent_answered:
        return CALLBACK_OUTCOME
    return row.outcome


def fact_from_row(row: ReportRow, wrapups: Mapping[tuple[str, str], float] | None = None) -> CallFact:
    offers = tuple(_offer_fact(o) for o in row.offers)
    answered = next((o for o in offers if o.answered_at is not None), None)
    agent = row.agent if row.agent is not None else (answered.agent if answered is not None else None)
    wrapup_s = None
    if wrapups is not None and agent is not None:
        wrapup_s = wrapups.get((row.id, agent))
    return CallFact(
        id=row.id,
        queue=row.queue,
        arrived_at=row.started_at,
        ivr_answered_at=row.answered_at,
        queued_at=row.queued_at,
        agent=agent,
        agent_answered_at=None if answered is None else answered.answered_at,
        ended_at=row.ended_at,
        outcome=_outcome(row, answered is not None),
        offers=offers,
        talk_s=None if answered is None else seconds_between(answered.answered_at, answered.ended_at),
        wrapup_s=wrapup_s,
        csat=row.survey_score,
    )


def facts_from_rows(
    rows: Iterable[ReportRow], wrapups: Mapping[tuple[str, str], float] | None = None
) -> list[CallFact]:
    """One inbound ``CallFact`` per row (callback attempts are not in the rows yet). ``wrapups`` from
    ``wrapups_from_log``; without it ``wrapup_s`` stays None (AHT then counts wrap-up as 0)."""
    return [fact_from_row(row, wrapups) for row in rows]


# --- the report -------------------------------------------------------------------------------------


async def load_facts(
    store: ReportStore, *, since: datetime | None, until: datetime | None, now: datetime
) -> tuple[list[CallFact], list[AgentInterval]]:
    """The calls started in [since, until) as facts, and the agents' intervals over the window (those
    still open closed at ``until`` or ``now``, whichever is earlier; ``now`` when ``until`` is None)."""
    rows = await store.report_rows(since, until)
    log_records = await store.agent_state_log(since, until)
    close_at = as_utc(now) if until is None else min(as_utc(until), as_utc(now))
    return facts_from_rows(rows, wrapups_from_log(log_records)), intervals_from_log(log_records, close_at)


async def report_for(
    store: ReportStore,
    *,
    since: datetime | None,
    until: datetime | None,
    ring_cycle_s: float,
    target_rings: int,
    short_abandon_s: float,
    now: datetime,
) -> dict[str, Any]:
    """``build_report`` over calls started in [since, until); agent intervals still open are closed at
    ``until`` or ``now``, whichever is earlier (``now`` when ``until`` is None)."""
    facts, intervals = await load_facts(store, since=since, until=until, now=now)
    return await asyncio.to_thread(
        build_report,
        facts,
        since=since,
        until=until,
        ring_cycle_s=ring_cycle_s,
        target_rings=target_rings,
        short_abandon_s=short_abandon_s,
        intervals=intervals,
    )
