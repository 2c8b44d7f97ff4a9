"""Recordings and listening in over HTTP (thin: parse, call the use case, shape JSON).

    POST /api/calls/{call_id}/recording   {"paused": true|false}: PCI pause/resume of the running recording
    POST /api/calls/{call_id}/listen      {"mode": "listen"|"whisper"|"barge", "endpoint": "PJSIP/<id>"}
    GET  /api/recordings/{recording_id}   the WAV (Range supported), found by id in the store only

The use cases come in through ``RecordingWebDeps`` (the wiring binds the ACD's recorder and listen-in);
a refusal they raise carries an HTTP ``status`` attribute (409: no recording / no operator now, 422: a
bad endpoint) and its message becomes the JSON error. A recording's file is looked up by its row id and
must lie inside the recordings directory; no path ever comes from the request.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from ivr.web.app import NOT_AN_OBJECT, json_error, json_object
from ivr.web.principal import principal_of

log = logging.getLogger(__name__)

RECORDING_ID = re.compile(r"[0-9]{1,18}")
"""A recording id in a path: ASCII digits below 2**63 (``str.isdigit`` takes ``²``, ``int`` refuses it)."""

SetPaused = Callable[[str, bool, str, str | None], Awaitable[bool]]
"""(call id, paused, reason, by) → the new state; raises a refusal with ``status``."""
Listen = Callable[[str, str, str], Awaitable[dict[str, Any]]]
"""(call id, mode, endpoint) → the listen session; raises a refusal with ``status``."""
RecordingFile = Callable[[int], Awaitable[str | None]]
"""recording id → its file relative to the recordings directory, None when unknown or deleted."""


@dataclass(frozen=True)
class RecordingWebDeps:
    set_paused: SetPaused
    listen: Listen
    recording_file: RecordingFile
    recordings_dir: Path


DEPS: web.AppKey[RecordingWebDeps] = web.AppKey("recordings", RecordingWebDeps)


def _refusal(exc: Exception) -> web.Response | None:
    status = getattr(exc, "status", None)
    if isinstance(status, int) and 400 <= status < 500:
        return json_error(status, str(exc))
    return None


async def _object(request: web.Request) -> dict[str, Any] | web.Response:
    body = await json_object(request)
    return json_error(422, NOT_AN_OBJECT) if body is None else body


async def set_recording(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    call_id = request.match_info["call_id"]
    body = await _object(request)
    if isinstance(body, web.Response):
        return body
    paused = body.get("paused")
    if not isinstance(paused, bool) or set(body) != {"paused"}:
        return json_error(422, 'body must be {"paused": true|false}', field="paused")
    principal = principal_of(request)
    reason = "operator" if principal is not None and principal.role == "agent" else "supervisor"
    by = principal.user if principal is not None else None
    try:
        state = await deps.set_paused(call_id, paused, reason, by)
    except Exception as exc:
        refused = _refusal(exc)
        if refused is None:
            raise
        return refused
    return web.json_response({"call_id": call_id, "paused": state})


async def listen(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    call_id = request.match_info["call_id"]
    body = await _object(request)
    if isinstance(body, web.Response):
        return body
    mode, endpoint = body.get("mode"), body.get("endpoint")
    if not isinstance(mode, str) or not isinstance(endpoint, str) or set(body) != {"mode", "endpoint"}:
        return json_error(422, 'body must be {"mode": "listen"|"whisper"|"barge", "endpoint": "PJSIP/<id>"}')
    try:
        session = await deps.listen(call_id, mode, endpoint)
    except Exception as exc:
        refused = _refusal(exc)
        if refused is None:
            raise
        return refused
    return web.json_response(session, status=201)


async def recording(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    raw = request.match_info["recording_id"]
    if not RECORDING_ID.fullmatch(raw):
        return json_error(404, "recording not found")
    relative = await deps.recording_file(int(raw))
    path = _inside(deps.recordings_dir, relative) if relative is not None else None
    if path is None or not path.is_file():
        return json_error(404, "recording not found")
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "audio/wav",
            "Content-Disposition": f'inline; filename="recording-{raw}.wav"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _inside(root: Path, relative: str) -> Path | None:
    base = root.resolve()
    path = (base / relative).resolve()
    return path if path.is_relative_to(base) and path != base and path.suffix == ".wav" else None


def add_recording_routes(app: web.Application, deps: RecordingWebDeps) -> None:
    app[DEPS] = deps
    app.router.add_post("/api/calls/{call_id}/recording", set_recording)
    app.router.add_post("/api/calls/{call_id}/listen", listen)
    app.router.add_get("/api/recordings/{recording_id}", recording)
