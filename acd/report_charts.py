"""The figures behind the report page's charts: service level by hour, rings to answer, abandons by
wait, CSAT by queue and agent, and Erlang C staffing advice beside what was measured.

Pure: the caller loads the facts (``acd.report_source.load_facts``) and passes the window. Figures
come from ``acd.metrics`` and ``acd.staffing`` (same definitions as the report, docs/metrics.md);
this module only groups them for charts. ``build_charts`` returns a JSON-ready dict
(``GET /api/report/charts``; shape in docs/web.md "Reports").

Filters: ``queue`` keeps the calls of that queue; ``agent`` keeps the calls that agent answered or
whose offers rang them. Staffing advice is about queues, so it ignores ``agent``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from acd.metrics import (
    DEFAULT_SHORT_ABANDON_S,
    LOGGED_OUT_STATE,
    AgentInterval,
    CallFact,
    OfferFact,
    ServiceStandard,
    abandon_wait_s,
    agent_figures,
    agents_seen,
    answered_offer,
    as_utc,
    by_hour,
    by_queue,
    group_figures,
    in_window,
    is_answered,
    iso_utc,
    occupancy,
    ring_to_answer_s,
    valid_csat,
)
from acd.report import DECIMALS, agent_dict, group_dict
from acd.staffing import StaffingRow, staffing_advice

ABANDON_EDGES_S: tuple[float, ...] = (10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
"""Upper edges of the abandon buckets after the short-abandon one; the last bucket is open."""
CSAT_SCORES = ("1", "2", "3", "4", "5")
_EPS = 1e-9


def _num(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def touches_agent(call: CallFact, agent: str) -> bool:
    """The agent answered the call or was rung for it."""
    return call.agent == agent or any(o.agent == agent for o in call.offers)


def matches(
    call: CallFact,
    *,
    since: datetime | None,
    until: datetime | None,
    queue: str | None = None,
    agent: str | None = None,
) -> bool:
    """The call arrived in [since, until), is of ``queue`` and touches ``agent`` when given."""
    return (
        in_window(call, since, until)
        and (queue is None or call.queue == queue)
        and (agent is None or touches_agent(call, agent))
    )


def select_calls(
    facts: Sequence[CallFact],
    *,
    since: datetime | None,
    until: datetime | None,
    queue: str | None = None,
    agent: str | None = None,
) -> list[CallFact]:
    """Calls that arrived in [since, until), of ``queue`` and touching ``agent`` when given."""
    return [c for c in facts if matches(c, since=since, until=until, queue=queue, agent=agent)]


# --- service level by hour ----------------------------------------------------------------------------


def sl_by_hour(calls: Sequence[CallFact], standard: ServiceStandard) -> list[dict[str, Any]]:
    """Per UTC hour of arrival: SL on ASA (answered within target ÷ answered) and the share of answered
    calls the agent picked up within the target rings."""
    rows = []
    for hour, hour_calls in by_hour(calls).items():
        f = group_figures(hour_calls, standard)
        rows.append(
            {
                "hour": iso_utc(hour),
                "offered": f.offered,
                "answered": f.answered,
                "abandoned": f.abandoned,
                "sl": _num(f.sl),
                "share_within_target": _num(f.share_within_target),
                "asa_s": _num(f.asa_s),
            }
        )
    return rows


# --- rings to answer ----------------------------------------------------------------------------------


def ring_bin(rings: float) -> int:
    """The histogram bin of a ring count: bin k holds (k−1, k] rings (0 rings goes to bin 1), as the
    report's ``ring_distribution`` counts "1" up to and including one ring."""
    return max(1, math.ceil(rings - _EPS))


def answered_offers(calls: Sequence[CallFact], agent: str | None) -> list[OfferFact]:
    """The offers whose ring time is charted: each answered call's answered offer; with ``agent`` every
    answered offer to that agent."""
    if agent is None:
        return [o for o in (answered_offer(c) for c in calls if is_answered(c)) if o is not None]
    return [o for c in calls for o in c.offers if o.agent == agent and o.answered_at is not None]


def ring_histogram(
    offers: Sequence[OfferFact], standard: ServiceStandard, max_rings: int | None = None
) -> dict[str, Any]:
    """Answered offers by rings to answer: bins 1..``max_rings`` then one for more; with the target line."""
    top = max_rings if max_rings is not None else max(6, 2 * standard.target_rings)
    counts = [0] * (top + 1)  # index top: more than top rings
    seconds = [s for s in (ring_to_answer_s(o) for o in offers) if s is not None]
    for value in seconds:
        counts[min(ring_bin(value / standard.ring_cycle_s), top + 1) - 1] += 1
    within = sum(1 for s in seconds if s <= standard.target_s + _EPS)
    bins: list[dict[str, int | None]] = [
        {"from_rings": k - 1, "to_rings": k, "count": counts[k - 1]} for k in range(1, top + 1)
    ]
    bins.append({"from_rings": top, "to_rings": None, "count": counts[top]})
    return {
        "bins": bins,
        "target_rings": standard.target_rings,
        "answered": len(seconds),
        "within_target": within,
        "share_within_target": _num(within / len(seconds)) if seconds else None,
    }


# --- abandons by wait ---------------------------------------------------------------------------------


def abandon_buckets(calls: Sequence[CallFact], short_abandon_s: float) -> dict[str, Any]:
    """Abandons by time waited in queue: [0, short) — the short abandons — then up to each of
    ``ABANDON_EDGES_S`` above it, then one open bucket."""
    edges = [0.0, *sorted({short_abandon_s, *(e for e in ABANDON_EDGES_S if e > short_abandon_s)})]
    edges = [e for i, e in enumerate(edges) if i == 0 or e > edges[i - 1]]
    waits = [w for w in (abandon_wait_s(c) for c in calls) if w is not None]
    buckets = []
    for low, high in zip(edges, [*edges[1:], None], strict=True):
        count = sum(1 for w in waits if w >= low and (high is None or w < high))
        buckets.append(
            {
                "from_s": low,
                "to_s": high,
                "count": count,
                "short": high is not None and high <= short_abandon_s,
            }
        )
    short = sum(1 for w in waits if w < short_abandon_s)
    return {"buckets": buckets, "abandons": len(waits), "short_abandons": short}


# --- CSAT ---------------------------------------------------------------------------------------------


def score_counts(calls: Sequence[CallFact]) -> dict[str, int]:
    counts = dict.fromkeys(CSAT_SCORES, 0)
    for score in (valid_csat(c) for c in calls):
        if score is not None:
            counts[str(score)] += 1
    return counts


def csat_groups(
    calls: Sequence[CallFact], standard: ServiceStandard, agent: str | None
) -> dict[str, list[dict[str, Any]]]:
    """CSAT per queue and per agent (the agent who handled the call): responses, mean, share of 4–5,
    and how many of each score."""
    queues = [
        {"name": name, **group_dict(group_figures(group, standard))["csat"], "scores": score_counts(group)}
        for name, group in by_queue(calls).items()
    ]
    names = [agent] if agent is not None else agents_seen(calls)
    agents = []
    for name in names:
        handled = [c for c in calls if c.agent == name]
        csat = agent_dict(agent_figures(calls, name, standard))["csat"]
        agents.append({"name": name, **csat, "scores": score_counts(handled)})
    return {"by_queue": queues, "by_agent": agents}


# --- staffing -----------------------------------------------------------------------------------------


def agents_logged_in(intervals: Sequence[AgentInterval], start: datetime, end: datetime) -> float | None:
    """Mean number of agents logged in (any state but logged_out) over [start, end); None if empty."""
    span = (end - start).total_seconds()
    if span <= 0:
        return None
    total = 0.0
    for interval in intervals:
        if interval.state == LOGGED_OUT_STATE:
            continue
        low, high = max(as_utc(interval.start), start), min(as_utc(interval.end), end)
        total += max((high - low).total_seconds(), 0.0)
    return total / span


def _hour_span(hour: datetime, since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    start, end = hour, hour + timedelta(hours=1)
    return (start if since is None else max(start, since), end if until is None else min(end, until))


def _row(row: StaffingRow) -> dict[str, Any]:
    return {k: _num(v) if isinstance(v, float) else v for k, v in asdict(row).items()}


def staffing_beside_measured(
    rows: Sequence[StaffingRow],
    intervals: Sequence[AgentInterval],
    since: datetime | None,
    until: datetime | None,
) -> dict[str, Any]:
    """The staffing rows per queue-hour, and per hour: calls per hour and Erlang C agents needed summed
    over the queues (agents dedicated to each queue) next to the agents who were logged in."""
    hours: dict[str, list[StaffingRow]] = {}
    for row in rows:
        hours.setdefault(row.hour, []).append(row)
    by_hour_rows = []
    for hour_iso, hour_rows in sorted(hours.items()):
        start, end = _hour_span(datetime.fromisoformat(hour_iso.replace("Z", "+00:00")), since, until)
        needed = [r.agents_needed_erlang for r in hour_rows]
        calls_per_h = sum(r.arrival_rate_per_h for r in hour_rows)
        work_s = sum(r.arrival_rate_per_h * r.aht_s for r in hour_rows)
        by_hour_rows.append(
            {
                "hour": hour_iso,
                "calls_per_h": _num(calls_per_h),
                "aht_s": _num(work_s / calls_per_h) if calls_per_h else None,
                "agents_needed": None if any(n is None for n in needed) else sum(n or 0 for n in needed),
                "agents_logged_in": _num(agents_logged_in(intervals, start, end)),
            }
        )
    return {"rows": [_row(r) for r in rows], "by_hour": by_hour_rows}


# --- all of it ----------------------------------------------------------------------------------------


def build_charts(
    facts: Sequence[CallFact],
    *,
    since: datetime | None,
    until: datetime | None,
    ring_cycle_s: float,
    target_rings: int,
    queue: str | None = None,
    agent: str | None = None,
    intervals: Sequence[AgentInterval] = (),
    target_share: float = 0.8,
    short_abandon_s: float = DEFAULT_SHORT_ABANDON_S,
    sim_calls: int = 2000,
) -> dict[str, Any]:
    """Everything the report page draws, over calls that arrived in [since, until)."""
    standard = ServiceStandard(ring_cycle_s, target_rings, short_abandon_s)
    since = None if since is None else as_utc(since)
    until = None if until is None else as_utc(until)
    calls = select_calls(facts, since=since, until=until, queue=queue, agent=agent)
    queue_calls = select_calls(facts, since=since, until=until, queue=queue)
    agent_intervals = [i for i in intervals if agent is None or i.agent == agent]
    advice = staffing_advice(
        queue_calls,
        ring_cycle_s,
        target_rings,
        target_share,
        since=since,
        until=until,
        short_abandon_s=short_abandon_s,
        sim_calls=sim_calls,
    )
    names = [agent] if agent is not None else agents_seen(calls, intervals)
    return {
        "since": None if since is None else iso_utc(since),
        "until": None if until is None else iso_utc(until),
        "queue": queue,
        "agent": agent,
        "ring_cycle_s": _num(float(ring_cycle_s)),
        "target_rings": target_rings,
        "target_s": _num(standard.target_s),
        "target_share": _num(target_share),
        "sl_by_hour": sl_by_hour(calls, standard),
        "rings": ring_histogram(answered_offers(calls, agent), standard),
        "abandons": abandon_buckets(calls, short_abandon_s),
        "csat": csat_groups(calls, standard, agent),
        "figures": {
            "overall": group_dict(
                group_figures(calls, standard, occupancy=occupancy(agent_intervals, since=since, until=until))
            ),
            "queues": {name: group_dict(group_figures(g, standard)) for name, g in by_queue(calls).items()},
            "agents": {
                name: agent_dict(
                    agent_figures(
                        calls,
                        name,
                        standard,
                        occupancy=occupancy(intervals, agent=name, since=since, until=until),
                    )
                )
                for name in names
            },
        },
        "staffing": staffing_beside_measured(advice, intervals, since, until),
    }
