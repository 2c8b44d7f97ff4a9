"""`EventStream`: the ARI events WebSocket as an endless async iterator of parsed events.

    stream = EventStream(client, on_connect=resync)
    async for event in stream:        # runs until `await stream.close()`
        route(event)

- Connects to ``/ari/events?app=<app>&subscribeAll=false`` with basic auth.
- After every (re)connection, awaits ``on_connect()`` *before* yielding further events; events that
  arrive meanwhile wait in the socket and are yielded afterwards, in order.
- When the socket drops (or ``on_connect`` fails with an `AriError`), reconnects with exponential
  backoff and full jitter between ``min_backoff`` and the current cap (doubling up to ``max_backoff``).
- A wrong user/password (HTTP 401/403 on the upgrade) raises `AriAuthError` out of the iterator
  instead of retrying forever. Asterisk being down is retried forever; ``last_error`` says why the
  last attempt failed, so the caller can apply its own deadline.
- Messages are read in the iterating task: no task per event.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable

import aiohttp

from ivr.ari.client import AriClient
from ivr.ari.errors import AriAuthError, AriConnectionError, AriError, error_for_status
from ivr.ari.events import AriEvent, parse_event

log = logging.getLogger(__name__)

OnConnect = Callable[[], Awaitable[object]]

_END_TYPES = (
    aiohttp.WSMsgType.CLOSE,
    aiohttp.WSMsgType.CLOSING,
    aiohttp.WSMsgType.CLOSED,
    aiohttp.WSMsgType.ERROR,
)


class EventStream:
    """Parsed ARI events for ``client.app``, forever, across reconnections."""

    def __init__(
        self,
        client: AriClient,
        *,
        on_connect: OnConnect | None = None,
        min_backoff: float = 0.5,
        max_backoff: float = 10.0,
        heartbeat: float | None = 20.0,
        connect_timeout: float = 10.0,
    ) -> None:
        if min_backoff <= 0 or max_backoff < min_backoff:
            raise ValueError("need 0 < min_backoff <= max_backoff")
        self._client = client
        self._on_connect = on_connect
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._heartbeat = heartbeat
        self._connect_timeout = connect_timeout
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._closed = False
        self._wake = asyncio.Event()
        self._failures = 0
        self._must_wait = False
        self.last_error: BaseException | None = None
        """Why the last connection attempt failed or the last connection dropped (None once connected)."""
        self.connections = 0
        """How many times a connection was established (1 after the first, 2 after one reconnect…)."""

    @property
    def connected(self) -> bool:
        """True while the events WebSocket is open."""
        return self._ws is not None and not self._ws.closed

    @property
    def closed(self) -> bool:
        return self._closed

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> AriEvent:
        while not self._closed:
            ws = self._ws
            if ws is None:
                await self._connect()
                continue
            msg = await ws.receive()
            if msg.type == aiohttp.WSMsgType.TEXT:
                event = self._decode(msg.data)
                if event is not None and not self._closed:
                    return event
            elif msg.type in _END_TYPES:
                if not self._closed:
                    reason = ws.exception() or f"WebSocket closed ({msg.type.name}, code {ws.close_code})"
                    self._record(AriConnectionError(f"ARI events WebSocket dropped: {reason}"))
                    log.warning("ARI events WebSocket dropped: %s; reconnecting", reason)
                await self._drop()
        raise StopAsyncIteration

    async def close(self) -> None:
        """End iteration: the pending or next ``__anext__`` raises StopAsyncIteration."""
        self._closed = True
        self._wake.set()
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            await ws.close()

    # -- connection handling -------------------------------------------------------------------

    async def _connect(self) -> None:
        """Connect (with backoff) and run on_connect; returns when connected or closed."""
        while not self._closed:
            if self._must_wait:
                await self._sleep(self._next_delay())
                if self._closed:
                    return
            self._must_wait = True
            try:
                ws = await self._open()
            except AriAuthError:
                raise
            except AriError as exc:
                self._record(exc)
                log.info("ARI events connection failed: %s", exc)
                continue
            if self._closed:
                await ws.close()
                return
            self._ws = ws
            self.connections += 1
            self.last_error = None
            log.info("ARI events WebSocket connected (connection %d)", self.connections)
            try:
                if self._on_connect is not None:
                    await self._on_connect()
            except AriAuthError:
                await self._drop()
                raise
            except AriError as exc:
                self._record(exc)
                log.warning("ARI on_connect failed: %s; reconnecting", exc)
                await self._drop()
                continue
            except BaseException:
                await self._drop()
                raise
            self._failures = 0
            return

    async def _open(self) -> aiohttp.ClientWebSocketResponse:
        client = self._client
        try:
            async with asyncio.timeout(self._connect_timeout):
                return await client.session.ws_connect(
                    client.events_url, headers=client.auth_headers, heartbeat=self._heartbeat, autoping=True
                )
        except aiohttp.WSServerHandshakeError as exc:
            hint = " (wrong ARI user or password?)" if exc.status in (401, 403) else ""
            message = f"events WebSocket refused: HTTP {exc.status} {exc.message}{hint}"
            raise error_for_status(exc.status, "GET", "/events", message) from exc
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise AriConnectionError(f"ARI events connect: {type(exc).__name__}: {exc}") from exc

    async def _drop(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            try:
                await ws.close()
            except Exception as exc:  # closing a broken socket must not break the stream
                log.debug("closing ARI WebSocket: %s", exc)

    def _record(self, exc: BaseException) -> None:
        self.last_error = exc
        self._failures += 1

    def _next_delay(self) -> float:
        cap = min(self.max_backoff, self.min_backoff * 2 ** max(self._failures - 1, 0))
        return random.uniform(self.min_backoff, cap) if cap > self.min_backoff else self.min_backoff

    async def _sleep(self, delay: float) -> None:
        try:
            async with asyncio.timeout(delay):
                await self._wake.wait()
        except TimeoutError:
            pass

    @staticmethod
    def _decode(text: str) -> AriEvent | None:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: arrays nested thousands deep
            log.warning("ARI sent a non-JSON event (%d chars); skipped", len(text))
            return None
        if not isinstance(data, dict):
            log.warning("ARI sent a non-object event; skipped")
            return None
        return parse_event(data)
