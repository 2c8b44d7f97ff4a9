"""The HTTP API: ``/healthz`` and ``/api/*``, behind the access check of ``ivr.web.access``.

Routes: ``GET /healthz``, ``GET /api/calls?limit=N`` (and the filters of ``call_query.py``),
``GET /api/calls/{id}``, ``GET /api/flows``, ``GET /api/stats``.
Every error is JSON ``{"error": "...", ...}``.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web

from ivr.store import CALLBACK_STATUSES, is_transient
from ivr.web.access import access_middleware, install_access
from ivr.web.call_query import CallQueryError, call_filters

log = logging.getLogger(__name__)

LIMIT_DEFAULT = 50
LIMIT_MAX = 500

_dumps = functools.partial(json.dumps, ensure_ascii=False)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CallReader(Protocol):
    """What the web layer needs from the store (``ivr.store.CallStore`` satisfies it)."""

    async def ping(self) -> bool: ...

    async def list_calls(self, limit: int = ...) -> list[dict[str, Any]]: ...

    async def search_calls(
        self,
        *,
        number: str | None = ...,
        since: datetime | None = ...,
        until: datetime | None = ...,
        queue: str | None = ...,
        agent: str | None = ...,
        outcome: str | None = ...,
        flow: str | None = ...,
        limit: int = ...,
    ) -> list[dict[str, Any]]: ...

    async def get_call(self, call_id: str) -> dict[str, Any] | None: ...

    async def list_callbacks(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class WebDeps:
    store: CallReader
    admin_token: str
    ari_connected: Callable[[], bool]
    flow_status: Callable[[], Mapping[str, Any]]
    """Loaded flows and load errors, JSON-able."""
    controller_stats: Callable[[], Mapping[str, Any]] | None = None
    """Controller counters for ``GET /api/stats`` (404 when not given)."""
    health_timeout_s: float = 2.0
    read_timeout_s: float = 10.0


DEPS_KEY = web.AppKey("deps", WebDeps)


def json_error(http_status: int, message: str, **extra: Any) -> web.Response:
    """The one error shape: ``{"error": message, **extra}``."""
    return web.json_response({"error": message, **extra}, status=http_status, dumps=_dumps)


NOT_AN_OBJECT = "body must be a JSON object"


async def json_object(request: web.Request) -> dict[str, Any] | None:
    """The request's body as a JSON object, or ``None`` when it is not one (answer 422 ``NOT_AN_OBJECT``)."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


@web.middleware
async def _json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {
            k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")
        }
        response = json_error(exc.status, exc.reason.lower())
        response.headers.update(headers)
        return response
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        return json_error(500, "internal server error")


async def healthz(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    try:
        ari_ok = bool(deps.ari_connected())
    except Exception:
        log.exception("ari_connected() failed")
        ari_ok = False
    try:
        async with asyncio.timeout(deps.health_timeout_s):
            store_ok = bool(await deps.store.ping())
    except TimeoutError:
        store_ok = False
    except Exception as exc:
        log.debug("store ping raised: %s", exc)
        store_ok = False
    body: dict[str, Any] = {
        "status": "ok" if ari_ok and store_ok else "unavailable",
        "ari": "connected" if ari_ok else "disconnected",
        "store": "ok" if store_ok else "unavailable",
    }
    if ari_ok and store_ok:
        return web.json_response(body, dumps=_dumps)
    down = [part for part, ok in (("ari", ari_ok), ("store", store_ok)) if not ok]
    return json_error(503, f"{' and '.join(down)} down", down=down, **body)


def _limit(request: web.Request) -> int | web.Response:
    raw = request.query.get("limit")
    if raw is None:
        return LIMIT_DEFAULT
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if not 1 <= value <= LIMIT_MAX:
        return json_error(
            400, f"limit must be a whole number from 1 to {LIMIT_MAX}", parameter="limit", value=raw
        )
    return value


async def _read(deps: WebDeps, what: Callable[[], Awaitable[Any]]) -> Any:
    """Run a store read; a database outage becomes ``None`` plus a 503 response."""
    try:
        async with asyncio.timeout(deps.read_timeout_s):
            return await what()
    except Exception as exc:
        if isinstance(exc, TimeoutError) or is_transient(exc):
            log.warning("store read failed: %s", exc)
            raise _StoreDown from exc
        raise


class _StoreDown(Exception):
    pass


async def list_calls(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    limit = _limit(request)
    if isinstance(limit, web.Response):
        return limit
    try:
        filters = call_filters(request.query, datetime.now(UTC))
    except CallQueryError as exc:
        return json_error(422, str(exc), parameter=exc.parameter)
    try:
        if filters:
            calls = await _read(deps, lambda: deps.store.search_calls(limit=limit, **filters))
        else:
            calls = await _read(deps, lambda: deps.store.list_calls(limit))
    except _StoreDown:
        return json_error(503, "store unavailable")
    return web.json_response(calls, dumps=_dumps)


async def get_call(request: web.Request) -> web.Response:
    deps = request.app[DEPS_KEY]
    call_id = request.match_info["call_id"]
    try:
        call = await _read(deps, lambda: deps.store.get_call(call_id))
    except _StoreDown:
        return json_error(503, "store unavailable")
    if call is None:
        return json_error(404, "call not found", id=call_id)
    return web.json_response(call, dumps=_dumps)


async def list_callbacks(request: web.Request) -> web.Response:
    """Promised callbacks, newest first: ``?status=pending|done|failed|cancelled``."""
    deps = request.app[DEPS_KEY]
    limit = _limit(request)
    if isinstance(limit, web.Response):
        return limit
    status = request.query.get("status") or None
    if status is not None and status not in CALLBACK_STATUSES:
        return json_error(422, f"status must be one of {', '.join(CALLBACK_STATUSES)}")
    try:
        rows = await _read(deps, lambda: deps.store.list_callbacks(status, limit))
    except _StoreDown:
        return json_error(503, "store unavailable")
    return web.json_response(rows, dumps=_dumps)


async def flows(request: web.Request) -> web.Response:
    status = request.app[DEPS_KEY].flow_status()
    return web.json_response(dict(status), dumps=_dumps)


async def stats(request: web.Request) -> web.Response:
    source = request.app[DEPS_KEY].controller_stats
    if source is None:
        return json_error(404, "no controller stats in this process")
    return web.json_response(dict(source()), dumps=_dumps)


def build_app(deps: WebDeps) -> web.Application:
    if not deps.admin_token:
        raise ValueError("WebDeps.admin_token must not be empty")
    app = web.Application(middlewares=[_json_errors, access_middleware])
    install_access(app, deps.admin_token)
    app[DEPS_KEY] = deps
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/api/calls", list_calls)
    app.router.add_get("/api/calls/{call_id}", get_call)
    app.router.add_get("/api/callbacks", list_callbacks)
    app.router.add_get("/api/flows", flows)
    app.router.add_get("/api/stats", stats)
    return app
