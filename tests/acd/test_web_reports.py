"""The report page's API over a real store: charts JSON, the CSV export, and 422 on bad periods."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from acd.web_reports import PeriodError, ReportWebDeps, add_report_routes, parse_period
from ivr.store import CallStore, default_db_url

Client = TestClient[web.Request, web.Application]
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def _seed(store: CallStore) -> None:
    await store.call_started("c1", "ch1", "=cmd|' /C calc'!A0", "<script>", "0501", "shop", at(0))
    await store.queue_entered("c1", "orders", at(5))
    await store.offer_started("c1", "2101", at(6))
    await store.offer_answered("c1", "2101", at(10.5))
    await store.offer_ended("c1", "2101", at(100), "answered")
    await store.survey_answered("c1", 5, at(110))
    await store.call_ended("c1", at(120), "completed", 16)
    await store.call_started("c2", "ch2", "0312345678", None, "0501", "shop", at(3700))
    await store.queue_entered("c2", "returns", at(3705))
    await store.call_ended("c2", at(3745), "abandoned", 16)
    await store.agent_state_changed("2101", "available", None, None, at(-60))


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    store = CallStore(default_db_url(tmp_path))
    await store.open()
    await _seed(store)
    app = web.Application()
    deps = ReportWebDeps(store=store, ring_cycle_s=3.0, target_rings=3, short_abandon_s=5.0, now=lambda: NOW)
    add_report_routes(app, deps)
    c: Client = TestClient(TestServer(app, host="127.0.0.1"))
    await c.start_server()
    try:
        yield c
    finally:
        await c.close()
        await store.close()


def test_period_parsing() -> None:
    period = parse_period({"since": "today", "until": "2026-12-01T19:00:00+09:00", "queue": "orders"}, NOW)
    assert (period.since, period.until) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2026, 12, 1, 10, tzinfo=UTC),
    )
    assert (period.queue, period.agent) == ("orders", None)
    assert parse_period({}, NOW) == parse_period({"since": " ", "agent": ""}, NOW)


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"since": "last week"}, "since"),
        ({"until": "2026-02-30"}, "until"),
        ({"since": "2026-12-02", "until": "2026-12-01"}, "until"),
        ({"since": "2026-01-01", "until": "2026-12-01"}, "until"),  # longer than 31 days
        ({"queue": "a b"}, "queue"),
        ({"agent": "<x>"}, "agent"),
    ],
)
def test_bad_periods(query: dict[str, str], parameter: str) -> None:
    with pytest.raises(PeriodError) as info:
        parse_period(query, NOW)
    assert info.value.parameter == parameter


async def test_charts_over_the_store(client: Client) -> None:
    resp = await client.get("/api/report/charts?since=today&until=2026-12-02")
    assert resp.status == 200
    data = await resp.json()
    assert [h["offered"] for h in data["sl_by_hour"]] == [1, 1]
    assert data["rings"]["answered"] == 1 and data["rings"]["bins"][1]["count"] == 1  # 4.5 s = 1.5 rings
    assert data["abandons"]["abandons"] == 1
    assert {q["name"]: q["mean"] for q in data["csat"]["by_queue"]} == {"orders": 5.0, "returns": None}
    assert [r["queue"] for r in data["staffing"]["rows"]] == ["orders", "returns"]
    assert data["staffing"]["by_hour"][0]["agents_logged_in"] == 1.0


async def test_charts_filtered_by_queue(client: Client) -> None:
    data = await (await client.get("/api/report/charts?since=today&queue=returns")).json()
    assert list(data["figures"]["queues"]) == ["returns"]
    assert data["rings"]["answered"] == 0


async def test_bad_query_is_422_json(client: Client) -> None:
    resp = await client.get("/api/report/charts?since=tomorrowish")
    assert resp.status == 422
    assert (await resp.json())["parameter"] == "since"
    resp = await client.get("/api/report/export.csv?agent=%3Cscript%3E")
    assert resp.status == 422


async def test_export_is_an_attachment_and_injection_safe(client: Client) -> None:
    resp = await client.get("/api/report/export.csv?since=2026-12-01&until=2026-12-02")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    assert (
        resp.headers["Content-Disposition"]
        == 'attachment; filename="calls-20261201T0000Z-20261202T0000Z.csv"'
    )
    rows = list(csv.reader(io.StringIO(await resp.text())))
    assert rows[0] == [
        "id",
        "started_at",
        "caller_number",
        "queue",
        "agent",
        "waited_s",
        "rings",
        "outcome",
        "csat",
    ]
    assert rows[1] == [
        "c1",
        "2026-12-01T09:00:00Z",
        "'=cmd|' /C calc'!A0",
        "orders",
        "2101",
        "5.5",
        "1.5",
        "completed",
        "5",
    ]
    assert rows[2][0] == "c2" and rows[2][5] == "40.0"


async def test_export_filtered_by_agent(client: Client) -> None:
    text = await (await client.get("/api/report/export.csv?agent=2101")).text()
    assert [line.split(",")[0] for line in text.strip().split("\r\n")] == ["id", "c1"]


async def test_export_of_an_open_period_is_streamed_in_chunks(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by tests/integration/test_api_fuzz.py: ``GET /api/report/export.csv`` without ``since``
    and ``until`` built the whole history as one body. Now it is written a few lines at a time."""
    monkeypatch.setattr("acd.web_reports.EXPORT_CHUNK", 1)  # one line per chunk: the seams show
    resp = await client.get("/api/report/export.csv")
    assert resp.status == 200
    assert resp.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in resp.headers
    rows = list(csv.reader(io.StringIO(await resp.text())))
    assert [row[0] for row in rows] == ["id", "c1", "c2"]
    assert rows[1][2] == "'=cmd|' /C calc'!A0"
