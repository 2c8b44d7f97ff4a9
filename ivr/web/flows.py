"""The flow editor's API: read a flow's YAML, check it, publish it (through the registry's hot-reload
path), its versions with a diff, roll back, and a picture of it.

    GET  /api/flows/{name}                     source, file, origin (shipped|site), live version, errors
    POST /api/flows/{name}/check               {"source"} → {"ok", "errors", "warnings"} (nothing written)
    PUT  /api/flows/{name}                     {"source", "note"?} → publish (422: errors; 409: held back)
    GET  /api/flows/{name}/versions            published versions, newest first (no source)
    GET  /api/flows/{name}/versions/{version}  one version's source and ``diff`` (current → that version)
    POST /api/flows/{name}/rollback            {"version": N} → publishes vN's source as a new version
    GET  /api/flows/{name}/graph.svg           the live version drawn by Graphviz

Every publish is kept in the store with the signed-in user's name. When the file on disk is not the
newest stored version (edited by hand, or never published from the browser), it is kept first, by
``(file)``, so the edit before any publish can be rolled back too.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import json
import logging
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aiohttp import web

from ivr.flows.graph import GraphError, svg
from ivr.flows.model import FlowError
from ivr.flows.site_flows import FlowSource, PublishRefused, SiteFlows
from ivr.flows.source_check import FLOW_NAME
from ivr.web.app import NOT_AN_OBJECT, json_error, json_object
from ivr.web.principal import principal_of

log = logging.getLogger(__name__)

MAX_SOURCE = 256 * 1024
MAX_NOTE = 500
MAX_VERSION = 999_999_999
"""The largest version number asked for (larger ones are no version, and would overflow SQLite)."""
VERSION_TEXT = re.compile(r"[0-9]{1,9}")
"""A version number in a path: ASCII digits only (``str.isdigit`` takes ``²``, which ``int`` refuses)."""
FILE_AUTHOR = "(file)"
"""The author of a version that was found on disk rather than published from the browser."""
SVG_CACHE = 64


class FlowVersionStore(Protocol):
    """What the editor needs from the store (``ivr.store.CallStore`` satisfies it)."""

    async def add_flow_version(
        self, flow: str, source: str, author: str, note: str | None = None, at: datetime | None = None
    ) -> dict[str, Any]: ...

    async def list_flow_versions(self, flow: str, limit: int = 100) -> list[dict[str, Any]]: ...

    async def get_flow_version(self, flow: str, version: int) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class FlowWebDeps:
    flows: SiteFlows
    """The registry and the site flows directory publishes write to."""
    store: FlowVersionStore
    graph_timeout_s: float = 10.0
    store_timeout_s: float = 10.0


@dataclass
class _State:
    publishing: asyncio.Lock = field(default_factory=asyncio.Lock)
    svgs: OrderedDict[tuple[str, str], bytes] = field(default_factory=OrderedDict)


DEPS: web.AppKey[FlowWebDeps] = web.AppKey("flows", FlowWebDeps)
STATE: web.AppKey[_State] = web.AppKey("flows_state", _State)


class _StoreDown(Exception):
    pass


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, ensure_ascii=False))


def _problems(errors: list[FlowError]) -> list[dict[str, object]]:
    return [e.as_dict() for e in errors]


def _name(request: web.Request) -> str:
    name = request.match_info["name"]
    if not FLOW_NAME.match(name):
        raise web.HTTPNotFound()
    return name


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


async def _stored(deps: FlowWebDeps, what: Any) -> Any:
    try:
        async with asyncio.timeout(deps.store_timeout_s):
            return await what
    except Exception as exc:
        log.warning("flow versions: store unavailable: %s", exc)
        raise _StoreDown from exc


async def _body(request: web.Request) -> dict[str, Any]:
    body = await json_object(request)
    if body is None:
        raise _Invalid(NOT_AN_OBJECT)
    return body


class _Invalid(Exception):
    pass


def _source_field(body: dict[str, Any]) -> str:
    source = body.get("source")
    if not isinstance(source, str):
        raise _Invalid("source must be the flow's YAML text")
    if len(source) > MAX_SOURCE:
        raise _Invalid(f"source is longer than {MAX_SOURCE} characters")
    return source


def _describe(src: FlowSource) -> dict[str, Any]:
    live = src.live
    return {
        "name": src.name,
        "file": str(src.file),
        "origin": src.origin,
        "overrides": str(src.overrides) if src.overrides else None,
        "source": src.text,
        "version": live.version if live else None,
        "live": live is not None and live.file == src.file and live.version == _hash(src.text),
        "numbers": list(live.numbers) if live else [],
        "errors": _problems(src.errors),
    }


async def get_flow(request: web.Request) -> web.Response:
    deps, name = request.app[DEPS], _name(request)
    src = deps.flows.source(name)
    if src is None:
        return json_error(404, "no such flow", name=name)
    body = _describe(src)
    body["warnings"] = _problems(deps.flows.check(name, src.text).warnings)
    try:
        latest = await _stored(deps, deps.store.list_flow_versions(name, 1))
    except _StoreDown:
        latest = []
    body["revision"] = latest[0]["version"] if latest else None
    return _json(body)


async def check_flow(request: web.Request) -> web.Response:
    deps, name = request.app[DEPS], _name(request)
    try:
        source = _source_field(await _body(request))
    except _Invalid as exc:
        return json_error(422, str(exc))
    checked = deps.flows.check(name, source)
    return _json(
        {"ok": checked.ok, "errors": _problems(checked.errors), "warnings": _problems(checked.warnings)}
    )


async def put_flow(request: web.Request) -> web.Response:
    name = _name(request)
    try:
        body = await _body(request)
        source = _source_field(body)
        note = body.get("note")
        if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
            raise _Invalid(f"note must be text of at most {MAX_NOTE} characters")
    except _Invalid as exc:
        return json_error(422, str(exc))
    return await _publish(request, name, source, (note or "").strip() or None)


async def rollback_flow(request: web.Request) -> web.Response:
    deps, name = request.app[DEPS], _name(request)
    try:
        body = await _body(request)
    except _Invalid as exc:
        return json_error(422, str(exc))
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION:
        return json_error(422, "version must be a version number (1, 2, …)")
    try:
        row = await _stored(deps, deps.store.get_flow_version(name, version))
    except _StoreDown:
        return json_error(503, "store unavailable")
    if row is None:
        return json_error(404, "no such version", name=name, version=version)
    return await _publish(request, name, str(row["source"]), f"rollback to v{version}")


async def _publish(request: web.Request, name: str, source: str, note: str | None) -> web.Response:
    deps, state = request.app[DEPS], request.app[STATE]
    principal = principal_of(request)
    author = principal.user if principal is not None else "token"
    checked = deps.flows.check(name, source)
    if checked.flow is None:
        return json_error(422, "the flow has errors; nothing was published", errors=_problems(checked.errors))
    async with state.publishing:
        try:
            await _keep_disk_version(deps, name)
        except _StoreDown:
            return json_error(503, "store unavailable; nothing was published")
        try:
            published = deps.flows.publish(name, source)
        except PublishRefused as exc:
            status, message = {
                "invalid": (422, "the flow has errors; nothing was published"),
                "link": (
                    409,
                    "the flow registry kept the previous version: this one does not fit the others",
                ),
                "io": (500, "the flow file could not be written"),
            }[exc.kind]
            return json_error(status, message, errors=_problems(exc.errors))
        try:
            row = await _stored(deps, deps.store.add_flow_version(name, published.text, author, note))
        except _StoreDown:
            deps.flows.undo(published)
            return json_error(503, "store unavailable; the previous version stays live")
    log.info("flow %s v%s published by %s (%s)", name, row["version"], author, published.flow.version)
    return _json(
        {
            **row,
            "ok": True,
            "file": str(published.file),
            "flow_version": published.flow.version,
            "warnings": _problems(checked.warnings),
        }
    )


async def _keep_disk_version(deps: FlowWebDeps, name: str) -> None:
    """Keep the file as found on disk when it is not the newest stored version."""
    src = deps.flows.source(name)
    if src is None:
        return
    latest = await _stored(deps, deps.store.list_flow_versions(name, 1))
    if latest:
        row = await _stored(deps, deps.store.get_flow_version(name, latest[0]["version"]))
        if row is not None and row["source"] == src.text:
            return
    note = f"as found in {src.file.name} before this publish"
    await _stored(deps, deps.store.add_flow_version(name, src.text, FILE_AUTHOR, note))


async def list_versions(request: web.Request) -> web.Response:
    deps, name = request.app[DEPS], _name(request)
    try:
        rows = await _stored(deps, deps.store.list_flow_versions(name))
    except _StoreDown:
        return json_error(503, "store unavailable")
    if not rows and deps.flows.source(name) is None:
        return json_error(404, "no such flow", name=name)
    return _json(rows)


async def get_version(request: web.Request) -> web.Response:
    deps, name = request.app[DEPS], _name(request)
    raw = request.match_info["version"]
    if not VERSION_TEXT.fullmatch(raw):
        return json_error(404, "no such version", name=name, version=raw)
    try:
        row = await _stored(deps, deps.store.get_flow_version(name, int(raw)))
    except _StoreDown:
        return json_error(503, "store unavailable")
    if row is None:
        return json_error(404, "no such version", name=name, version=raw)
    src = deps.flows.source(name)
    current = src.text if src is not None else ""
    diff = difflib.unified_diff(
        current.splitlines(keepends=True),
        str(row["source"]).splitlines(keepends=True),
        fromfile="current",
        tofile=f"v{row['version']}",
    )
    return _json({**row, "diff": "".join(diff)})


async def graph_svg(request: web.Request) -> web.StreamResponse:
    deps, state, name = request.app[DEPS], request.app[STATE], _name(request)
    src = deps.flows.source(name)
    if src is None or src.live is None:
        return json_error(404, "no live version of this flow", name=name)
    key = (name, src.live.version)
    image = state.svgs.get(key)
    if image is None:
        try:
            image = await svg(src.live, timeout_s=deps.graph_timeout_s)
        except GraphError as exc:
            return json_error(503, str(exc))
        state.svgs[key] = image
        while len(state.svgs) > SVG_CACHE:
            state.svgs.popitem(last=False)
    state.svgs.move_to_end(key)
    return web.Response(
        body=image,
        headers={
            "Content-Type": "image/svg+xml",
            "Cache-Control": "no-cache",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
        },
    )


def add_flow_routes(app: web.Application, deps: FlowWebDeps) -> None:
    app[DEPS] = deps
    app[STATE] = _State()
    app.router.add_get("/api/flows/{name}", get_flow)
    app.router.add_post("/api/flows/{name}/check", check_flow)
    app.router.add_put("/api/flows/{name}", put_flow)
    app.router.add_get("/api/flows/{name}/versions", list_versions)
    app.router.add_get("/api/flows/{name}/versions/{version}", get_version)
    app.router.add_post("/api/flows/{name}/rollback", rollback_flow)
    app.router.add_get("/api/flows/{name}/graph.svg", graph_svg)
