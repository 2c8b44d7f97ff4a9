"""The wallboard API: the snapshot route and the WebSocket that pushes it (coalesced, ticking, bounded)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient

from ivr.store import CallStore
from ivr.web import WebDeps, build_app
from ivr.web.wallboard import HUB, WallboardDeps, add_wallboard_routes
from tests.web.conftest import AUTH, TOKEN, flow_status, start_client

Client = TestClient[web.Request, web.Application]


class Source:
    """A stand-in for the ACD's wallboard source: a version number and an optional padding."""

    def __init__(self) -> None:
        self.version = 1
        self.padding = ""
        self.builds = 0
        self.fail = False
        self.notify: Callable[[], None] | None = None

    async def snapshot(self) -> dict[str, Any]:
        self.builds += 1
        if self.fail:
            raise RuntimeError("source broken")
        return {"version": self.version, "queues": [], "agents": [], "calls": [], "padding": self.padding}

    def subscribe(self, notify: Callable[[], None]) -> None:
        self.notify = notify

    def change(self, version: int) -> None:
        self.version = version
        assert self.notify is not None
        self.notify()


async def make(store: CallStore, source: Source, **options: Any) -> Client:
    app = build_app(
        WebDeps(store=store, admin_token=TOKEN, ari_connected=lambda: True, flow_status=flow_status)
    )
    add_wallboard_routes(app, WallboardDeps(snapshot=source.snapshot, subscribe=source.subscribe, **options))
    return await start_client(app)


@pytest.fixture
def source() -> Source:
    return Source()


@pytest.fixture
async def quiet(store: CallStore, source: Source) -> AsyncIterator[Client]:
    """Pushes only on change notifications (the tick is far away)."""
    client = await make(store, source, tick_s=60.0, min_interval_s=0.05)
    try:
        yield client
    finally:
        await client.close()


async def receive(ws: aiohttp.ClientWebSocketResponse, within_s: float = 2.0) -> dict[str, Any]:
    msg = await ws.receive(timeout=within_s)
    assert msg.type == WSMsgType.TEXT, msg
    data: dict[str, Any] = json.loads(msg.data)
    return data


async def quiet_for(ws: aiohttp.ClientWebSocketResponse, seconds: float) -> list[dict[str, Any]]:
    """Every message that arrives within ``seconds``."""
    got = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            got.append(await receive(ws, left))
        except TimeoutError:
            break
    return got


async def test_snapshot_route_returns_the_sources_snapshot(quiet: Client, source: Source) -> None:
    response = await quiet.get("/api/wallboard", headers=AUTH)
    assert response.status == 200
    assert (await response.json())["version"] == 1
    source.fail = True
    response = await quiet.get("/api/wallboard", headers=AUTH)
    assert response.status == 503 and "error" in await response.json()


async def test_routes_need_the_token(quiet: Client) -> None:
    assert (await quiet.get("/api/wallboard")).status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await quiet.ws_connect("/api/wallboard/ws")
    assert refused.value.status == 401


async def test_a_cross_site_page_may_not_open_the_socket(quiet: Client) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await quiet.ws_connect("/api/wallboard/ws", headers={**AUTH, "Origin": "http://evil.example"})
    assert refused.value.status == 403
    own = f"http://{quiet.server.host}:{quiet.server.port}"
    ws = await quiet.ws_connect("/api/wallboard/ws", headers={**AUTH, "Origin": own})
    assert (await receive(ws))["type"] == "snapshot"
    await ws.close()


async def test_socket_sends_a_snapshot_on_connect_and_after_each_change(
    quiet: Client, source: Source
) -> None:
    ws = await quiet.ws_connect("/api/wallboard/ws", headers=AUTH)
    first = await receive(ws)
    assert first["type"] == "snapshot" and first["version"] == 1
    assert all(m["version"] == 1 for m in await quiet_for(ws, 0.3))
    source.version = 2  # changed, but nobody said so: nothing is pushed (the browser does not poll)
    assert await quiet_for(ws, 0.3) == []
    source.change(3)
    assert (await receive(ws))["version"] == 3
    await ws.close()


async def test_a_burst_of_changes_is_pushed_coalesced(store: CallStore, source: Source) -> None:
    client = await make(store, source, tick_s=60.0, min_interval_s=0.25)
    try:
        ws = await client.ws_connect("/api/wallboard/ws", headers=AUTH)
        await quiet_for(ws, 0.4)
        for version in range(10, 40):
            source.change(version)
            await asyncio.sleep(0.005)
        got = await quiet_for(ws, 0.8)
        assert 1 <= len(got) <= 2  # 30 changes within 0.15 s: one or two pushes, not thirty
        assert got[-1]["version"] == 39  # the last state always arrives
        await ws.close()
    finally:
        await client.close()


async def test_the_tick_pushes_without_changes(store: CallStore, source: Source) -> None:
    client = await make(store, source, tick_s=0.1, min_interval_s=0.01)
    try:
        ws = await client.ws_connect("/api/wallboard/ws", headers=AUTH)
        assert len(await quiet_for(ws, 0.6)) >= 4  # time in state and longest wait advance
        await ws.close()
    finally:
        await client.close()


async def test_no_snapshots_are_built_while_nobody_watches(store: CallStore, source: Source) -> None:
    client = await make(store, source, tick_s=0.05, min_interval_s=0.01)
    try:
        source.change(2)
        await asyncio.sleep(0.3)
        assert source.builds == 0
    finally:
        await client.close()


async def test_a_client_that_went_away_does_not_stop_the_others(quiet: Client, source: Source) -> None:
    gone = await quiet.ws_connect("/api/wallboard/ws", headers=AUTH)
    stays = await quiet.ws_connect("/api/wallboard/ws", headers=AUTH)
    await receive(gone)
    await quiet_for(stays, 0.3)
    gone._response.connection.transport.abort()  # type: ignore[union-attr]  # no close handshake
    source.change(5)
    assert (await receive(stays))["version"] == 5
    hub = quiet.app[HUB]  # type: ignore[index]
    for _ in range(100):
        if len(hub.clients) == 1:
            break
        await asyncio.sleep(0.01)
    assert len(hub.clients) == 1
    await stays.close()


async def test_a_client_that_stops_reading_is_dropped_and_the_others_keep_receiving(
    store: CallStore, source: Source
) -> None:
    source.padding = "x" * 1_000_000  # big snapshots fill the stalled client's buffers quickly
    client = await make(store, source, tick_s=0.05, min_interval_s=0.01, send_timeout_s=0.3)
    try:
        slow = await client.ws_connect("/api/wallboard/ws", headers=AUTH, max_msg_size=0)
        fast = await client.ws_connect("/api/wallboard/ws", headers=AUTH, max_msg_size=0)
        hub = client.app[HUB]  # type: ignore[index]
        received = 0
        async with asyncio.timeout(10):
            while len(hub.clients) > 1:  # never reading `slow`
                await receive(fast)
                received += 1
        assert received >= 1
        source.padding = ""
        source.change(7)
        while (await receive(fast))["version"] != 7:
            pass
        assert len(hub.clients) == 1
        await fast.close()
        await slow.close()
    finally:
        await client.close()


async def test_shutdown_closes_every_socket(store: CallStore, source: Source) -> None:
    client = await make(store, source, tick_s=60.0)
    ws = await client.ws_connect("/api/wallboard/ws", headers=AUTH)
    await receive(ws)
    await quiet_for(ws, 0.3)
    try:
        async with asyncio.timeout(5):
            await client.server.close()  # the app's shutdown, the client still connected
        msg = await ws.receive(timeout=2)
        assert msg.type == WSMsgType.CLOSE and msg.data == aiohttp.WSCloseCode.GOING_AWAY
        assert client.app[HUB].clients == set()  # type: ignore[index]
    finally:
        await client.close()
