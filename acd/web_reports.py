"""The report page's API (thin: parse, load, compute in a worker thread, answer). Mounted by the wiring
behind the same access rules and JSON errors as the rest of ``/api``.

    GET /api/report/charts?since=&until=&queue=&agent=       the charts' figures (``build_charts``)
    GET /api/report/export.csv?since=&until=&queue=&agent=   the period's calls as CSV (attachment)

``since``/``until``: ISO 8601 date or time (no zone: UTC) or ``today`` (midnight UTC), as
``GET /api/report``; either may be left out (open). ``queue``/``agent``: exact names.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from acd.report_charts import build_charts
from acd.report_export import export_lines, to_csv
from acd.report_source import ReportStore, load_facts

MAX_SPAN = timedelta(days=31)
EXPORT_CHUNK = 500
"""CSV lines per write of the streamed export."""
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReportWebDeps:
    store: ReportStore
    ring_cycle_s: float
    target_rings: int
    short_abandon_s: float
    target_share: float = 0.8
    now: Callable[[], datetime] = field(default=_utc_now)


DEPS: web.AppKey[ReportWebDeps] = web.AppKey("reports", ReportWebDeps)


@dataclass(frozen=True)
class Period:
    since: datetime | None
    until: datetime | None
    queue: str | None
    agent: str | None


class PeriodError(ValueError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def _when(name: str, raw: str, now: datetime) -> datetime:
    if raw == "today":
        return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise PeriodError(name, f"{name} must be an ISO 8601 date or time, or 'today'") from None
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_period(query: Mapping[str, str], now: datetime) -> Period:
    """``since``, ``until``, ``queue``, ``agent`` from a query string; raises ``PeriodError``."""
    raw = {k: query.get(k, "").strip() for k in ("since", "until", "queue", "agent")}
    since = _when("since", raw["since"], now) if raw["since"] else None
    until = _when("until", raw["until"], now) if raw["until"] else None
    if since is not None and until is not None:
        if until <= since:
            raise PeriodError("until", "until must be later than since")
        if until - since > MAX_SPAN:
            raise PeriodError("until", f"a period may be at most {MAX_SPAN.days} days long")
    for name in ("queue", "agent"):
        if raw[name] and not _NAME.match(raw[name]):
            raise PeriodError(name, f"{name} must be a name of letters, digits and _ . : @ -")
    return Period(since, until, raw["queue"] or None, raw["agent"] or None)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _period(request: web.Request) -> Period | web.Response:
    try:
        return parse_period(request.query, request.app[DEPS].now())
    except PeriodError as exc:
        return _error(422, str(exc), parameter=exc.parameter)


async def charts(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    period = _period(request)
    if isinstance(period, web.Response):
        return period
    facts, intervals = await load_facts(deps.store, since=period.since, until=period.until, now=deps.now())
    result = await asyncio.to_thread(
        build_charts,
        facts,
        since=period.since,
        until=period.until,
        ring_cycle_s=deps.ring_cycle_s,
        target_rings=deps.target_rings,
        queue=period.queue,
        agent=period.agent,
        intervals=intervals,
        target_share=deps.target_share,
        short_abandon_s=deps.short_abandon_s,
    )
    return web.json_response(result, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _stamp(moment: datetime | None) -> str:
    return "open" if moment is None else moment.strftime("%Y%m%dT%H%MZ")


async def export_csv(request: web.Request) -> web.StreamResponse:
    """The period's calls as CSV, streamed ``EXPORT_CHUNK`` lines at a time (chunked: an open period
    may hold any number of calls, and the answer is never built as one string)."""
    deps = request.app[DEPS]
    period = _period(request)
    if isinstance(period, web.Response):
        return period
    rows = await deps.store.report_rows(period.since, period.until)
    lines = export_lines(
        rows,
        ring_cycle_s=deps.ring_cycle_s,
        since=period.since,
        until=period.until,
        queue=period.queue,
        agent=period.agent,
    )
    name = f"calls-{_stamp(period.since)}-{_stamp(period.until)}.csv"
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, len(lines), EXPORT_CHUNK):
        await response.write(to_csv(lines[start : start + EXPORT_CHUNK]).encode("utf-8"))
    await response.write_eof()
    return response


def add_report_routes(app: web.Application, deps: ReportWebDeps) -> None:
    app[DEPS] = deps
    app.router.add_get("/api/report/charts", charts)
    app.router.add_get("/api/report/export.csv", export_csv)
