from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from ivr.store import CallRecorder, CallStore, default_db_url
from ivr.web import WebDeps, build_app
from tests.web.conftest import AUTH, TOKEN, flow_status, start_client

Client = TestClient[web.Request, web.Application]
T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_calls_round_trip_through_recorder_and_api(store: CallStore, client: Client) -> None:
    recorder = CallRecorder(store)
    recorder.submit(lambda s: s.call_started("c1", "ch1", "0312345678", "山田", "0501", "shop", at(0)))
    recorder.submit(lambda s: s.call_answered("c1", at(0.5)))
    for i, n in enumerate(["welcome", "menu", "card", "menu"]):
        recorder.submit(functools.partial(CallStore.node_entered, call_id="c1", node_id=n, at=at(1 + i)))
    recorder.submit(lambda s: s.input_taken("c1", "card", "dtmf", "****", True, at(4)))
    recorder.submit(lambda s: s.queue_entered("c1", "orders", at(6)))
    recorder.submit(lambda s: s.offer_started("c1", "bob", at(7)))
    recorder.submit(lambda s: s.offer_answered("c1", "bob", at(13)))
    recorder.submit(lambda s: s.call_ended("c1", at(60), "completed", "normal"))
    recorder.submit(lambda s: s.call_started("c2", "ch2", "1", "x", "0501", "shop", at(100)))
    assert await recorder.flush(10)
    await recorder.close()

    resp = await client.get("/api/calls", headers=AUTH)
    assert resp.status == 200
    assert resp.content_type == "application/json"
    calls = await resp.json()
    assert [c["id"] for c in calls] == ["c2", "c1"]
    c1 = calls[1]
    assert c1["caller"] == {"number": "0312345678", "name": "山田"}
    assert c1["path"] == ["welcome", "menu", "card", "menu"]
    assert c1["inputs"] == [
        {"kind": "dtmf", "value": "****", "node": "card", "sensitive": True, "at": "2025-03-01T09:00:04Z"}
    ]
    assert c1["offers"] == [
        {
            "agent": "bob",
            "ring_started_at": "2025-03-01T09:00:07Z",
            "answered_at": "2025-03-01T09:00:13Z",
            "ended_at": None,
            "outcome": None,
            "ring_s": 6.0,
            "rings": 2.0,
        }
    ]
    assert (c1["queue"], c1["agent"], c1["outcome"]) == ("orders", "bob", "completed")
    assert (c1["ring_to_answer_s"], c1["rings"]) == (6.0, 2.0)
    for key in ("started_at", "answered_at", "ended_at"):
        assert c1[key].endswith("Z") and datetime.fromisoformat(c1[key]).tzinfo is not None

    one = await client.get("/api/calls/c1", headers=AUTH)
    assert one.status == 200 and await one.json() == c1
    assert [c["id"] for c in await (await client.get("/api/calls?limit=1", headers=AUTH)).json()] == ["c2"]


HOSTILE = [
    '"; DROP TABLE calls; --',
    "<script>alert(1)</script>",
    'O\'Brien "Bob" \\',
    "山田 太郎",
    "\u202eevil",
]


async def test_hostile_caller_names_verbatim(store: CallStore, client: Client) -> None:
    for i, name in enumerate(HOSTILE):
        await store.call_started(f"c{i}", f"ch{i}", f"+81{i}", name, "0501", "shop", at(i))
    calls = await (await client.get("/api/calls", headers=AUTH)).json()
    assert {c["id"]: c["caller"]["name"] for c in calls} == {f"c{i}": n for i, n in enumerate(HOSTILE)}
    raw = await (await client.get("/api/calls/c1", headers=AUTH)).text()
    assert "<script>alert(1)</script>" in raw  # JSON, not HTML: no escaping games, served as JSON
    assert len(await (await client.get("/api/calls", headers=AUTH)).json()) == len(HOSTILE)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": "Bearer 山田"},
    ],
)
async def test_api_requires_bearer_token(client: Client, headers: dict[str, str]) -> None:
    for path in ("/api/calls", "/api/calls/c1", "/api/flows", "/api/nope"):
        resp = await client.get(path, headers=headers)
        assert resp.status == 401
        assert "error" in await resp.json()
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


async def test_healthz_needs_no_token(client: Client) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok", "ari": "connected", "store": "ok"}


@pytest.mark.parametrize("value", ["0", "501", "-1", "abc", "", "1.5", "1e3"])
async def test_limit_validation(client: Client, value: str) -> None:
    resp = await client.get("/api/calls", params={"limit": value}, headers=AUTH)
    assert resp.status == 400
    body = await resp.json()
    assert body["parameter"] == "limit" and "limit" in body["error"] and body["value"] == value


@pytest.mark.parametrize("value", ["1", "500", "50"])
async def test_limit_accepted(client: Client, value: str) -> None:
    resp = await client.get("/api/calls", params={"limit": value}, headers=AUTH)
    assert resp.status == 200 and await resp.json() == []


async def test_unknown_call_is_404_json(client: Client) -> None:
    resp = await client.get("/api/calls/nope", headers=AUTH)
    assert resp.status == 404
    assert await resp.json() == {"error": "call not found", "id": "nope"}


async def test_unknown_route_and_method_are_json(client: Client) -> None:
    resp = await client.get("/api/nope", headers=AUTH)
    assert resp.status == 404 and "error" in await resp.json()
    resp = await client.post("/api/calls", headers=AUTH)
    assert resp.status == 405 and "error" in await resp.json() and "GET" in resp.headers["Allow"]


async def test_flows(client: Client) -> None:
    resp = await client.get("/api/flows", headers=AUTH)
    assert resp.status == 200 and await resp.json() == flow_status()


async def test_stats_route(store: CallStore) -> None:
    deps = WebDeps(
        store=store,
        admin_token=TOKEN,
        ari_connected=lambda: True,
        flow_status=flow_status,
        controller_stats=lambda: {"calls_active": 2},
    )
    client = await start_client(build_app(deps))
    try:
        resp = await client.get("/api/stats", headers=AUTH)
        assert resp.status == 200 and await resp.json() == {"calls_active": 2}
        assert (await client.get("/api/stats")).status == 401
    finally:
        await client.close()


async def test_stats_absent_is_404_json(client: Client) -> None:
    resp = await client.get("/api/stats", headers=AUTH)
    assert resp.status == 404 and "error" in await resp.json()


class FakeStore:
    def __init__(self, ping: Any = True, fail_reads: BaseException | None = None) -> None:
        self._ping = ping
        self.fail_reads = fail_reads

    async def ping(self) -> bool:
        if self._ping == "hang":
            await asyncio.sleep(3600)
        if isinstance(self._ping, BaseException):
            raise self._ping
        return bool(self._ping)

    async def list_calls(self, limit: int = 50) -> list[dict[str, Any]]:
        if self.fail_reads is not None:
            raise self.fail_reads
        return []

    async def get_call(self, call_id: str) -> dict[str, Any] | None:
        return None


def boom() -> dict[str, Any]:
    raise RuntimeError("secret internals /etc/passwd")


async def fake_client(store: Any, ari: Any = True, flows: Any = flow_status) -> Client:
    def ari_connected() -> bool:
        if isinstance(ari, BaseException):
            raise ari
        return bool(ari)

    deps = WebDeps(
        store=store, admin_token=TOKEN, ari_connected=ari_connected, flow_status=flows, health_timeout_s=0.2
    )
    return await start_client(build_app(deps))


@pytest.mark.parametrize(
    ("ari", "ping", "status", "body"),
    [
        (True, True, 200, {"status": "ok", "ari": "connected", "store": "ok"}),
        (False, True, 503, {"ari": "disconnected", "store": "ok", "down": ["ari"]}),
        (True, False, 503, {"ari": "connected", "store": "unavailable", "down": ["store"]}),
        (False, False, 503, {"ari": "disconnected", "store": "unavailable", "down": ["ari", "store"]}),
        (RuntimeError("x"), True, 503, {"ari": "disconnected", "down": ["ari"]}),
        (True, OSError("disk gone"), 503, {"store": "unavailable", "down": ["store"]}),
        (True, "hang", 503, {"store": "unavailable", "down": ["store"]}),
    ],
)
async def test_healthz_combinations(ari: Any, ping: Any, status: int, body: dict[str, Any]) -> None:
    client = await fake_client(FakeStore(ping=ping), ari=ari)
    try:
        async with asyncio.timeout(10):  # a hanging database must not hang the health check
            resp = await client.get("/healthz")
        got = await resp.json()
        assert resp.status == status
        assert body.items() <= got.items()
        if status == 503:
            assert got["status"] == "unavailable" and "down" in got["error"]
    finally:
        await client.close()


async def test_healthz_503_with_real_closed_store(tmp_path: Path) -> None:
    store = CallStore(default_db_url(tmp_path))
    await store.open()
    client = await fake_client(store)
    try:
        assert (await client.get("/healthz")).status == 200
        await store.close()
        resp = await client.get("/healthz")
        assert resp.status == 503 and (await resp.json())["store"] == "unavailable"
    finally:
        await client.close()


async def test_unexpected_exception_is_500_without_traceback() -> None:
    client = await fake_client(FakeStore(), flows=boom)
    try:
        resp = await client.get("/api/flows", headers=AUTH)
        assert resp.status == 500
        text = await resp.text()
        assert await resp.json() == {"error": "internal server error"}
        assert "Traceback" not in text and "passwd" not in text
    finally:
        await client.close()


async def test_store_outage_on_read_is_503() -> None:
    client = await fake_client(FakeStore(fail_reads=OSError("connection refused")))
    try:
        resp = await client.get("/api/calls", headers=AUTH)
        assert resp.status == 503 and await resp.json() == {"error": "store unavailable"}
    finally:
        await client.close()


def test_empty_token_refused() -> None:
    with pytest.raises(ValueError, match="admin_token"):
        build_app(
            WebDeps(store=FakeStore(), admin_token="", ari_connected=lambda: True, flow_status=flow_status)
        )
