"""The ACD's HTTP API (thin: parse, call a use case, shape JSON). Mounted under ``/api`` by the wiring,
behind the same bearer auth and JSON errors as the rest of ``/api``.

    GET  /api/agents                  every agent: state, since, reason, skills, languages, registered, call
    POST /api/agents/{id}/state       {"state": "available"|"paused"|"logged_out", "reason": "…"}
    PUT  /api/agents/{id}/skills      {"skills": {"orders": 5}, "languages"?: ["ja"]}: written to the file
    GET  /api/agents/{id}/current     own state (since, reason) and the screen pop: the caller the agent is
                                      talking to, with the IVR's inputs
    GET  /api/queues                  per queue: waiting, longest wait, agents by state, today's SL
    GET  /api/report?since=&until=    the report (= ``ivr report --json``)
    GET  /api/acd                     the agents/queues files and the errors of a rejected edit
    POST /api/calls/{id}/transfer     {"queue": "returns"} or {"department": "warehouse"}: escalation
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from acd.agents import REQUESTABLE, TransitionNotAllowed
from acd.distributor import UnknownAgent, UnknownCall, UnknownQueue
from acd.service import AcdService
from acd.skills_edit import EditRejected, FileRejected, SkillsEdit, parse_edit

log = logging.getLogger(__name__)

ReportFn = Callable[[datetime | None, datetime | None], Awaitable[dict[str, Any]]]
CallFn = Callable[[str], Awaitable[dict[str, Any] | None]]
EditFn = Callable[[str, SkillsEdit], Awaitable[None]]

MAX_REASON = 64


@dataclass(frozen=True)
class AcdWebDeps:
    service: AcdService
    get_call: CallFn  # the store's call record (with the IVR's inputs, already masked)
    report: ReportFn
    config_status: Callable[[], dict[str, Any]] = dict  # files and the errors of a rejected edit
    edit_agent: EditFn | None = None  # AcdRuntime.edit_agent: skills written to the agents file, reloaded


DEPS: web.AppKey[AcdWebDeps] = web.AppKey("acd", AcdWebDeps)


def _error(status: int, message: str, **extra: Any) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def _json(data: Any) -> web.Response:
    return web.json_response(data, dumps=lambda d: json.dumps(d, ensure_ascii=False))


async def list_agents(request: web.Request) -> web.Response:
    return _json(request.app[DEPS].service.agent_rows())


async def _object(request: web.Request) -> dict[str, Any] | web.Response:
    """The request's JSON object body, or the 422 answer."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _error(422, "body must be a JSON object")
    if not isinstance(body, dict):
        return _error(422, "body must be a JSON object")
    return body


async def set_state(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    agent_id = request.match_info["agent_id"]
    body = await _object(request)
    if isinstance(body, web.Response):
        return body
    state = body.get("state")
    reason = body.get("reason")
    if state not in REQUESTABLE:
        return _error(422, f"state must be one of {', '.join(sorted(REQUESTABLE))}", field="state")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
        return _error(422, f"reason must be a string of at most {MAX_REASON} characters", field="reason")
    unknown = sorted(set(body) - {"state", "reason"})
    if unknown:
        return _error(422, f"unknown field {unknown[0]!r}", field=unknown[0])
    try:
        deps.service.set_agent_state(agent_id, str(state), reason)
    except UnknownAgent:
        return _error(404, "agent not found", id=agent_id)
    except TransitionNotAllowed as exc:
        return _error(409, str(exc), id=agent_id)
    except ValueError as exc:
        return _error(422, str(exc), field="state")
    row = next(r for r in deps.service.agent_rows() if r["id"] == agent_id)
    return _json(row)


async def edit_skills(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    agent_id = request.match_info["agent_id"]
    if deps.edit_agent is None:
        return _error(503, "skills cannot be edited here")
    if not any(r["id"] == agent_id for r in deps.service.agent_rows()):
        return _error(404, "agent not found", id=agent_id)
    body = await _object(request)
    if isinstance(body, web.Response):
        return body
    known = {q.skill for q in deps.service.distributor.config.queues.values()}
    try:
        await deps.edit_agent(agent_id, parse_edit(body, known))
    except EditRejected as exc:
        return _error(422, str(exc), field=exc.field)
    except FileRejected as exc:
        return _error(422, "the agents file rejected the edit (unchanged)", errors=exc.errors)
    except UnknownAgent:
        return _error(404, "agent not in the agents file", id=agent_id)
    row = next((r for r in deps.service.agent_rows() if r["id"] == agent_id), None)
    return _json(row) if row is not None else _error(404, "agent not found", id=agent_id)


async def current(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    agent_id = request.match_info["agent_id"]
    rows = {r["id"]: r for r in deps.service.agent_rows()}
    if agent_id not in rows:
        return _error(404, "agent not found", id=agent_id)
    caller = deps.service.callers.for_agent(agent_id)
    me = {k: rows[agent_id][k] for k in ("state", "state_since", "reason")}
    if caller is None:
        return _json({"agent": agent_id, **me, "call": None})
    req = caller.request
    record = None
    try:
        record = await deps.get_call(req.call_id)
    except Exception as exc:  # the screen pop still shows what the ACD knows
        log.warning("screen pop for %s: call record unreadable: %s", agent_id, exc)
    now = datetime.now(UTC)
    call = {
        "id": req.call_id,
        "caller": {"number": req.caller_number, "name": req.caller_name},
        "language": req.lang,
        "queue": caller.queue,
        "queued_at": req.entered_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "waited_s": round((now - req.entered_at).total_seconds(), 1),
        "collected": dict(req.attributes),  # the flow's queue attributes: what the IVR collected
        "inputs": (record or {}).get("inputs", []),
        "path": (record or {}).get("path", []),
    }
    return _json({"agent": agent_id, **me, "call": call})


async def queues(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    now = datetime.now(UTC)
    snapshot = deps.service.distributor.queue_snapshot(now)
    config = deps.service.distributor.config.queues
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    by_queue: dict[str, Any] = {}
    try:
        by_queue = (await deps.report(today, today + timedelta(days=1))).get("queues", {})
    except Exception as exc:
        log.warning("today's service level unavailable: %s", exc)
    out = []
    for name, snap in snapshot.items():
        figures = by_queue.get(name, {})
        out.append(
            {
                "name": name,
                "display": dict(config[name].display),
                "waiting": snap.waiting,
                "callbacks_waiting": snap.callbacks,
                "longest_wait_s": round(snap.longest_wait_s, 1),
                "agents": {
                    "available": snap.available,
                    "busy": snap.busy,
                    "paused": snap.paused,
                    "logged_in": snap.logged_in,
                },
                "service_level_today": figures.get("sl"),
                "answered_within_target_today": figures.get("share_within_target"),
                "target_s": config[name].target_s(deps.service.settings.ring_cycle_s),
            }
        )
    return _json(out)


def _when(raw: str | None) -> datetime | None:
    if raw is None or raw == "":
        return None
    if raw == "today":
        return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def report(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    try:
        since = _when(request.query.get("since"))
        until = _when(request.query.get("until"))
    except ValueError:
        return _error(422, "since/until must be ISO 8601 dates or times, or 'today'")
    return _json(await deps.report(since, until))


async def transfer(request: web.Request) -> web.Response:
    deps = request.app[DEPS]
    call_id = request.match_info["call_id"]
    body = await _object(request)
    if isinstance(body, web.Response):
        return body
    if len(body) != 1 or not isinstance(next(iter(body.values())), str):
        return _error(422, 'body must be {"queue": NAME} or {"department": NAME}')
    queue = body.get("queue")
    if "department" in body:
        dept = deps.service.distributor.config.departments.get(body["department"])
        if dept is None:
            return _error(404, "department not found", department=body["department"])
        if dept.queue is None and dept.extension is not None:
            try:
                deps.service.to_department(call_id, dept.name, dept.extension)
            except UnknownCall:
                return _error(404, "call not in the ACD", id=call_id)
            return _json({"id": call_id, "department": dept.name, "extension": dept.extension})
        queue = dept.queue
    if queue is None:
        return _error(422, 'body must be {"queue": NAME} or {"department": NAME}')
    try:
        deps.service.requeue(call_id, queue)
    except UnknownCall:
        return _error(404, "call not in the ACD", id=call_id)
    except UnknownQueue:
        return _error(404, "queue not found", queue=queue)
    return _json({"id": call_id, "queue": queue})


async def acd_status(request: web.Request) -> web.Response:
    """The ACD's configuration: its files, what is live, and why the last edit was rejected (if so)."""
    deps = request.app[DEPS]
    config = deps.service.distributor.config
    return _json(
        {
            **deps.config_status(),
            "agents": len(config.agents),
            "queues": sorted(config.queues),
            "skills": sorted({q.skill for q in config.queues.values()}),  # what agents' skills may name
            "departments": sorted(config.departments),
        }
    )


def add_acd_routes(app: web.Application, deps: AcdWebDeps) -> None:
    app[DEPS] = deps
    app.router.add_get("/api/acd", acd_status)
    app.router.add_get("/api/agents", list_agents)
    app.router.add_post("/api/agents/{agent_id}/state", set_state)
    app.router.add_put("/api/agents/{agent_id}/skills", edit_skills)
    app.router.add_get("/api/agents/{agent_id}/current", current)
    app.router.add_get("/api/queues", queues)
    app.router.add_get("/api/report", report)
    app.router.add_post("/api/calls/{call_id}/transfer", transfer)
