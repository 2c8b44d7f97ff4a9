"""The service report: figures overall, per queue, per agent and per hour, with staffing advice.

Pure: the caller loads the facts and passes the window. ``build_report`` returns a JSON-ready dict
(what ``GET /api/report`` and ``ivr report --json`` return; shape in docs/metrics.md);
``format_report`` renders it as plain-text tables for the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from acd.metrics import (
    DEFAULT_SHORT_ABANDON_S,
    AgentFigures,
    AgentInterval,
    CallFact,
    GroupFigures,
    ServiceStandard,
    agent_figures,
    agents_seen,
    as_utc,
    by_hour,
    by_queue,
    group_figures,
    in_window,
    iso_utc,
    occupancy,
)
from acd.staffing import staffing_advice

DECIMALS = 3


def _num(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def _csat(responses: int, mean: float | None, share: float | None) -> dict[str, Any]:
    return {"responses": responses, "mean": _num(mean), "share_satisfied": _num(share)}


def group_dict(figures: GroupFigures) -> dict[str, Any]:
    return {
        "offered": figures.offered,
        "answered": figures.answered,
        "abandoned": figures.abandoned,
        "short_abandons": figures.short_abandons,
        "callbacks": {
            "requested": figures.callbacks_requested,
            "kept": figures.callbacks_kept,
            "failed": figures.callbacks_failed,
        },
        "answered_within_target": figures.answered_within_target,
        "share_within_target": _num(figures.share_within_target),
        "ring_distribution": dict(figures.ring_distribution),
        "sl": _num(figures.sl),
        "sl2": _num(figures.sl2),
        "asa_s": _num(figures.asa_s),
        "aht_s": _num(figures.aht_s),
        "longest_wait_s": _num(figures.longest_wait_s),
        "abandonment_rate": _num(figures.abandonment_rate),
        "occupancy": _num(figures.occupancy),
        "csat": _csat(figures.csat_responses, figures.csat_mean, figures.csat_share_satisfied),
        "ivr_pickup_s": {"p50": _num(figures.ivr_pickup_p50_s), "p90": _num(figures.ivr_pickup_p90_s)},
    }


def agent_dict(figures: AgentFigures) -> dict[str, Any]:
    return {
        "offered": figures.offered,
        "answered": figures.answered,
        "no_answer": figures.no_answer,
        "ring_to_answer_s_mean": _num(figures.ring_to_answer_s_mean),
        "share_within_target": _num(figures.share_within_target),
        "aht_s": _num(figures.aht_s),
        "occupancy": _num(figures.occupancy),
        "csat": _csat(figures.csat_responses, figures.csat_mean, figures.csat_share_satisfied),
    }


def _clip(
    start: datetime, end: datetime, since: datetime | None, until: datetime | None
) -> tuple[datetime, datetime]:
    return (start if since is None else max(start, since), end if until is None else min(end, until))


def build_report(
    facts: Sequence[CallFact],
    *,
    since: datetime | None,
    until: datetime | None,
    ring_cycle_s: float,
    target_rings: int,
    short_abandon_s: float = DEFAULT_SHORT_ABANDON_S,
    intervals: Sequence[AgentInterval] = (),
    target_share: float = 0.8,
    sim_calls: int = 5000,
) -> dict[str, Any]:
    """The report over calls that arrived in [since, until) (either bound may be None: open).

    Cost: about 10 ms of simulation per queue-hour with calls (``sim_calls`` per staffing row).
    """
    standard = ServiceStandard(ring_cycle_s, target_rings, short_abandon_s)
    since = None if since is None else as_utc(since)
    until = None if until is None else as_utc(until)
    calls = [c for c in facts if in_window(c, since, until)]
    window_occupancy = occupancy(intervals, since=since, until=until)
    hours = []
    for hour, hour_calls in by_hour(calls).items():
        start, end = _clip(hour, hour + timedelta(hours=1), since, until)
        figures = group_figures(hour_calls, standard, occupancy=occupancy(intervals, since=start, until=end))
        hours.append({"hour": iso_utc(hour), **group_dict(figures)})
    staffing = staffing_advice(
        calls,
        ring_cycle_s,
        target_rings,
        target_share,
        since=since,
        until=until,
        short_abandon_s=short_abandon_s,
        sim_calls=sim_calls,
    )
    return {
        "since": None if since is None else iso_utc(since),
        "until": None if until is None else iso_utc(until),
        "ring_cycle_s": _num(float(ring_cycle_s)),
        "target_rings": target_rings,
        "target_s": _num(float(standard.target_s)),
        "overall": group_dict(group_figures(calls, standard, occupancy=window_occupancy)),
        "queues": {
            name: group_dict(group_figures(group, standard)) for name, group in by_queue(calls).items()
        },
        "agents": {
            agent: agent_dict(
                agent_figures(
                    calls,
                    agent,
                    standard,
                    occupancy=occupancy(intervals, agent=agent, since=since, until=until),
                )
            )
            for agent in agents_seen(calls, intervals)
        },
        "hours": hours,
        "staffing": [
            {key: _num(value) if isinstance(value, float) else value for key, value in asdict(row).items()}
            for row in staffing
        ],
    }


# --- plain text -------------------------------------------------------------------------------------


def _cell(value: Any, *, percent: bool = False) -> str:
    if value is None:
        return "-"
    if percent:
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    """First column left-aligned (names), the rest right-aligned (numbers)."""
    padded = [
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    ]
    return "  ".join(padded).rstrip()


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    return [_line(headers, widths), "  ".join("-" * w for w in widths)] + [_line(r, widths) for r in rows]


_GROUP_HEADERS = (
    "",
    "offered",
    "answered",
    "aband",
    "short",
    "SL",
    "SL2",
    "in rings",
    "ASA s",
    "AHT s",
    "longest s",
    "aband %",
    "occup",
    "CSAT",
)


def _group_row(name: str, group: dict[str, Any]) -> list[str]:
    return [
        name,
        _cell(group["offered"]),
        _cell(group["answered"]),
        _cell(group["abandoned"]),
        _cell(group["short_abandons"]),
        _cell(group["sl"], percent=True),
        _cell(group["sl2"], percent=True),
        _cell(group["share_within_target"], percent=True),
        _cell(group["asa_s"]),
        _cell(group["aht_s"]),
        _cell(group["longest_wait_s"]),
        _cell(group["abandonment_rate"], percent=True),
        _cell(group["occupancy"], percent=True),
        _cell(group["csat"]["mean"]),
    ]


def format_report(report: dict[str, Any]) -> str:
    """Plain-text tables: overall and per queue, per hour, per agent, then staffing advice per queue-hour."""
    overall = report["overall"]
    rings = overall["ring_distribution"]
    callbacks = overall["callbacks"]
    pickup = overall["ivr_pickup_s"]
    lines = [
        f"Report {report['since'] or 'start'} .. {report['until'] or 'now'}",
        f"Target: answer within {report['target_rings']} rings of {report['ring_cycle_s']} s "
        f"= {report['target_s']} s (SL/SL2 on ASA; 'in rings' on the agent's ring-to-answer)",
        f"Rings to answer: 1: {rings['1']}  2: {rings['2']}  3: {rings['3']}  4+: {rings['4+']}",
        f"Callbacks requested {callbacks['requested']}, kept {callbacks['kept']}, "
        f"failed {callbacks['failed']}",
        f"IVR pick-up p50 {_cell(pickup['p50'])} s, p90 {_cell(pickup['p90'])} s",
        "",
    ]
    queue_rows = [_group_row("overall", overall)]
    queue_rows += [_group_row(name, group) for name, group in report["queues"].items()]
    lines += _table(("queue", *_GROUP_HEADERS[1:]), queue_rows)
    if report["hours"]:
        lines.append("")
        hour_rows = [_group_row(h["hour"], h) for h in report["hours"]]
        lines += _table(("hour (UTC)", *_GROUP_HEADERS[1:]), hour_rows)
    if report["agents"]:
        lines.append("")
        agent_rows = [
            [
                agent,
                _cell(a["offered"]),
                _cell(a["answered"]),
                _cell(a["no_answer"]),
                _cell(a["ring_to_answer_s_mean"]),
                _cell(a["share_within_target"], percent=True),
                _cell(a["aht_s"]),
                _cell(a["occupancy"], percent=True),
                _cell(a["csat"]["mean"]),
            ]
            for agent, a in report["agents"].items()
        ]
        lines += _table(
            ("agent", "offered", "answered", "no answer", "ring s", "in rings", "AHT s", "occup", "CSAT"),
            agent_rows,
        )
    if report["staffing"]:
        lines.append("")
        lines.append(
            f"Staffing (Erlang C for SL on ASA within {report['target_s']} s; simulated with abandons)"
        )
        staffing_rows = [
            [
                f"{row['queue']} {row['hour']}",
                _cell(row["offered"]),
                _cell(row["measured_sl"], percent=True),
                _cell(row["arrival_rate_per_h"]),
                _cell(row["aht_s"]),
                _cell(row["agents_needed_erlang"]),
                _cell(row["simulated_sl_at_that_n"], percent=True),
                _cell(row["simulated_abandon_rate"], percent=True),
            ]
            for row in report["staffing"]
        ]
        lines += _table(
            ("queue hour (UTC)", "offered", "SL", "calls/h", "AHT s", "agents", "sim SL", "sim aband"),
            staffing_rows,
        )
    return "\n".join(lines) + "\n"
