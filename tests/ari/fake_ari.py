"""A small in-process fake of Asterisk's ARI (HTTP + events WebSocket) on 127.0.0.1, for unit tests.

Only for tests of `ivr.ari` itself: call behaviour is proven on the real Asterisk.

- Every HTTP request under ``/ari/`` is recorded in ``requests`` (method, path, query items, JSON body).
- ``reply(method, path, status, body)`` scripts the answer; unscripted requests get 204.
- Basic auth (or ``api_key=user:password``) is checked like Asterisk does: 401 with a JSON message.
- ``/ari/events`` upgrades to a WebSocket; ``send(event)`` pushes to open sockets; ``drop()`` closes them
  from the server side; ``wait_connections(n)`` waits until ``n`` sockets were accepted in total.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: list[tuple[str, str]]
    body: Any

    def param(self, name: str) -> list[str]:
        return [v for k, v in self.query if k == name]


class FakeAri:
    def __init__(self, user: str = "ivr", password: str = "secret") -> None:
        self.user = user
        self.password = password
        self.requests: list[Recorded] = []
        self.ws_queries: list[dict[str, str]] = []
        self._replies: dict[tuple[str, str], tuple[int, Any]] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._accepted = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/ari/events", self._events)
        app.router.add_route("*", "/ari/{tail:.*}", self._http)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        await self.drop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def reply(self, method: str, path: str, status: int, body: Any = None) -> None:
        self._replies[(method.upper(), path)] = (status, body)

    # -- auth --------------------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            decoded = base64.b64decode(header[6:]).decode()
            return decoded == f"{self.user}:{self.password}"
        return request.query.get("api_key") == f"{self.user}:{self.password}"

    # -- HTTP ----------------------------------------------------------------------------------------

    async def _http(self, request: web.Request) -> web.StreamResponse:
        body: Any = None
        if request.can_read_body:
            text = await request.text()
            body = json.loads(text) if text else None
        path = request.raw_path.split("?", 1)[0].removeprefix("/ari")
        self.requests.append(Recorded(request.method, path, list(request.query.items()), body))
        if not self._authorized(request):
            return web.json_response({"message": "Authentication required"}, status=401)
        status, payload = self._replies.get((request.method, path), (204, None))
        if payload is None:
            return web.Response(status=status)
        if isinstance(payload, str | bytes):
            return web.Response(status=status, body=payload, content_type="text/plain")
        return web.json_response(payload, status=status)

    # -- events WebSocket ------------------------------------------------------------------------

    async def _events(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"message": "Authentication required"}, status=401)
        self.ws_queries.append(dict(request.query))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async with self._changed:
            self._sockets.append(ws)
            self._accepted += 1
            self._changed.notify_all()
        try:
            async for _msg in ws:
                pass
        finally:
            async with self._changed:
                if ws in self._sockets:
                    self._sockets.remove(ws)
                self._changed.notify_all()
        return ws

    async def wait_connections(self, total: int) -> None:
        """Wait until `total` WebSockets were accepted since start (and at least one is open)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._accepted >= total and bool(self._sockets))

    @property
    def open_sockets(self) -> int:
        return len(self._sockets)

    async def send(self, event: dict[str, Any] | str) -> None:
        text = event if isinstance(event, str) else json.dumps(event)
        for ws in list(self._sockets):
            await ws.send_str(text)

    async def drop(self) -> None:
        """Close every events WebSocket from the server side (Asterisk restarting, network cut)."""
        for ws in list(self._sockets):
            await ws.close()
