"""The live wallboard's API: the snapshot as JSON, and a WebSocket that pushes it.

    GET /api/wallboard      the snapshot (queues, agents, calls in progress; shape in docs/web.md)
    GET /api/wallboard/ws   WebSocket: ``{"type": "snapshot", ...}`` on connect and after every change

The browser never polls. The source (the wiring composes ``acd.wallboard.AcdWallboard``: this package
does not import the ACD) calls ``notify`` on every change; the hub coalesces them to at most one push per
``min_interval_s``, and pushes every ``tick_s`` anyway so "time in state" and "longest wait" advance.
One snapshot is built per push and shared by every client. Each client holds at most the newest
unsent snapshot; one whose send stalls for ``send_timeout_s`` is dropped (the page reconnects).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web

from ivr.web.app import json_error

log = logging.getLogger(__name__)


class WallboardSource(Protocol):
    async def snapshot(self) -> Mapping[str, Any]: ...

    def subscribe(self, notify: Callable[[], None]) -> None: ...


@dataclass(frozen=True)
class WallboardDeps:
    snapshot: Callable[[], Awaitable[Mapping[str, Any]]]
    """The wallboard's JSON-able picture, built now."""
    subscribe: Callable[[Callable[[], None]], None]
    """Registers the hub's ``notify`` (called once, when the routes are added)."""
    min_interval_s: float = 0.25
    tick_s: float = 1.0
    send_timeout_s: float = 5.0
    max_clients: int = 100
    heartbeat_s: float = 20.0

    @classmethod
    def of(cls, source: WallboardSource) -> WallboardDeps:
        return cls(snapshot=source.snapshot, subscribe=source.subscribe)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


class _Client:
    """One socket and its sender: only the newest snapshot waits; a stalled send drops the client."""

    def __init__(self, ws: web.WebSocketResponse, request: web.Request, send_timeout_s: float) -> None:
        self.ws = ws
        self._request = request
        self._send_timeout_s = send_timeout_s
        self._latest: str | None = None
        self._ready = asyncio.Event()
        self.task = asyncio.get_running_loop().create_task(self._send_loop(), name="wallboard-client")

    def offer(self, text: str) -> None:
        self._latest = text  # an unsent older snapshot is simply replaced
        self._ready.set()

    async def _send_loop(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            text, self._latest = self._latest, None
            if text is None:
                continue
            try:
                async with asyncio.timeout(self._send_timeout_s):
                    await self.ws.send_str(text)
            except (TimeoutError, ConnectionError, RuntimeError) as exc:
                log.info("wallboard: client %s dropped (%s)", self._request.remote, type(exc).__name__)
                self.drop()
                return

    def drop(self) -> None:
        """Cut the connection at once (its handler then ends and forgets the client)."""
        transport = self._request.transport
        if transport is not None:
            transport.abort()

    async def close(self, timeout_s: float = 1.0) -> None:
        self.task.cancel()
        try:
            async with asyncio.timeout(timeout_s):
                await self.ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")
        except Exception:
            self.drop()


class WallboardHub:
    def __init__(self, deps: WallboardDeps) -> None:
        self.deps = deps
        self.clients: set[_Client] = set()
        self._dirty = asyncio.Event()
        self._someone = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.closing = False
        self.pushes = 0

    def notify(self) -> None:
        """Something changed: push soon (coalesced)."""
        self._dirty.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="wallboard")

    async def close(self) -> None:
        self.closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        clients, self.clients = list(self.clients), set()
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)

    def add(self, client: _Client) -> None:
        self.clients.add(client)
        self._someone.set()

    def remove(self, client: _Client) -> None:
        self.clients.discard(client)
        client.task.cancel()
        if not self.clients:
            self._someone.clear()

    async def message(self) -> str | None:
        """The snapshot as the socket sends it, or ``None`` if the source failed."""
        try:
            snapshot = await self.deps.snapshot()
        except Exception:
            log.exception("wallboard: snapshot failed")
            return None
        return _dumps({"type": "snapshot", **snapshot})

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = float("-inf")
        while True:
            await self._someone.wait()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, last + self.deps.tick_s - loop.time())):
                    await self._dirty.wait()
            pause = last + self.deps.min_interval_s - loop.time()
            if pause > 0:
                await asyncio.sleep(pause)
            self._dirty.clear()
            last = loop.time()
            if not self.clients:
                continue
            text = await self.message()
            if text is not None:
                self.pushes += 1
                for client in list(self.clients):
                    client.offer(text)


HUB: web.AppKey[WallboardHub] = web.AppKey("wallboard", WallboardHub)


def _same_origin(request: web.Request) -> bool:
    """A browser's socket must come from our own pages (no cross-site WebSocket hijacking)."""
    origin = request.headers.get("Origin")
    if origin is None:  # not a browser (scripts with the bearer token)
        return True
    return urlsplit(origin).netloc.lower() == request.host.lower()


async def snapshot(request: web.Request) -> web.Response:
    try:
        data = await request.app[HUB].deps.snapshot()
    except Exception:
        log.exception("wallboard: snapshot failed")
        return json_error(503, "wallboard unavailable")
    return web.json_response(dict(data), dumps=_dumps)


async def socket(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    if not _same_origin(request):
        return json_error(403, "cross-origin WebSocket refused")
    if len(hub.clients) >= hub.deps.max_clients or hub.closing:
        return json_error(503, "too many wallboard connections")
    ws = web.WebSocketResponse(heartbeat=hub.deps.heartbeat_s, max_msg_size=4096)
    try:
        await ws.prepare(request)
    except ConnectionResetError:  # the browser left during the handshake (a quick reload)
        return ws
    client = _Client(ws, request, hub.deps.send_timeout_s)
    hub.add(client)
    try:
        first = await hub.message()
        if first is not None:
            client.offer(first)
        async for msg in ws:  # the page sends nothing; reading keeps the close handshake and pings
            if msg.type == WSMsgType.ERROR:
                break
    finally:
        hub.remove(client)
    return ws


async def _start(app: web.Application) -> None:
    app[HUB].start()


async def _shutdown(app: web.Application) -> None:
    await app[HUB].close()


def add_wallboard_routes(app: web.Application, deps: WallboardDeps) -> None:
    hub = WallboardHub(deps)
    app[HUB] = hub
    deps.subscribe(hub.notify)
    app.on_startup.append(_start)
    app.on_shutdown.append(_shutdown)
    app.router.add_get("/api/wallboard", snapshot)
    app.router.add_get("/api/wallboard/ws", socket)
