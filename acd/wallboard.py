"""The wallboard's picture of the contact center: queues, agents and calls in progress, as one JSON-able
dict (what ``GET /api/wallboard`` returns and the WebSocket pushes; ``ivr.web.wallboard`` serves it).

``build_snapshot`` is pure: the ACD's live state, the calls in progress and today's report figures in,
the dict out. ``TodayFigures`` caches today's report (a store query plus a simulation: never run per
event); ``AcdWallboard`` is the I/O edge that composes them for the wiring.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from acd.agent_book import EPOCH
from acd.agents import AgentState, AgentStatus
from acd.caller_directory import Caller
from acd.distributor import QueueSnapshot
from acd.metrics import as_utc, iso_utc
from acd.model import AcdConfig
from acd.service import AcdService

log = logging.getLogger(__name__)

DEFAULT_TARGET_SHARE = 0.8
"""Share of calls to answer within the target when the configuration names none (DESIGN.md)."""
WARN_BAND = 0.1
"""Below the target share by at most this much is amber; further down is red (common.js levelClass)."""
_EPS = 1e-9  # shares are rounded to 3 decimals: 0.7 is in the amber band of 0.8
CALL_STATES = (AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP)
"""Agent states in which the agent's call is shown."""

ReportFn = Callable[[datetime | None, datetime | None], Awaitable[dict[str, Any]]]
LiveCalls = Callable[[], Sequence[Mapping[str, Any]]]
Clock = Callable[[], datetime]


class CallerLookup(Protocol):
    """The ACD's callers by call id (``CallerDirectory`` satisfies it)."""

    def get(self, call_id: str) -> Caller | None: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


def start_of_day(now: datetime) -> datetime:
    """Today's start (UTC midnight, as ``GET /api/queues`` counts "today")."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def level(share: float | None, target: float, warn_band: float = WARN_BAND) -> str | None:
    """``ok`` at or above the target share, ``warn`` within ``warn_band`` below it, ``bad`` further
    down; ``None`` with nothing to measure yet. The page colours with the same rule."""
    if share is None:
        return None
    if share >= target - _EPS:
        return "ok"
    return "warn" if share >= target - warn_band - _EPS else "bad"


def _seconds(since: datetime | None, now: datetime) -> float | None:
    if since is None or as_utc(since) <= EPOCH:  # never seen since the ACD started: no duration
        return None
    return round(max(0.0, (as_utc(now) - as_utc(since)).total_seconds()), 1)


def _parse(iso: object) -> datetime | None:
    if not isinstance(iso, str):
        return None
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _queue_row(
    name: str,
    config: AcdConfig,
    snap: QueueSnapshot,
    figures: Mapping[str, Any],
    ring_cycle_s: float,
    target_share: float,
) -> dict[str, Any]:
    q = config.queues[name]
    share = figures.get("share_within_target")
    return {
        "name": name,
        "display": dict(q.display),
        "waiting": snap.waiting,
        "longest_wait_s": round(snap.longest_wait_s, 1),
        "callbacks_pending": snap.callbacks,
        "agents": {
            "available": snap.available,
            "busy": snap.busy,
            "paused": snap.paused,
            "logged_in": snap.logged_in,
        },
        "target_rings": q.target_rings,
        "target_s": q.target_s(ring_cycle_s),
        "target_share": target_share,
        "within_target_today": share,
        "level": level(share, target_share),
        "offered_today": figures.get("offered", 0),
        "answered_today": figures.get("answered", 0),
        "asa_s_today": figures.get("asa_s"),
        "abandoned_today": figures.get("abandoned", 0),
        "short_abandons_today": figures.get("short_abandons", 0),
    }


def _agent_row(
    status: AgentStatus, config: AcdConfig, callers: CallerLookup, now: datetime
) -> dict[str, Any]:
    cfg = config.agent(status.id)
    call = status.current_call if status.state in CALL_STATES else None
    caller = callers.get(call) if call is not None else None
    return {
        "id": status.id,
        "name": cfg.name if cfg is not None else status.id,
        "state": str(status.state),
        "since": iso_utc(status.since) if as_utc(status.since) > EPOCH else None,
        "seconds_in_state": _seconds(status.since, now),
        "reason": status.reason,
        "registered": status.registered,
        "call": call,
        "queue": caller.queue if caller is not None else None,
    }


def _call_row(call: Mapping[str, Any], callers: CallerLookup, now: datetime) -> dict[str, Any]:
    call_id = str(call.get("id", ""))
    caller = callers.get(call_id)
    queue = caller.queue if caller is not None else call.get("queue")
    agent = caller.agent if caller is not None else None
    where = "agent" if agent is not None else "queue" if queue is not None else "flow"
    raw_caller = call.get("caller")
    who = raw_caller if isinstance(raw_caller, Mapping) else {}
    return {
        "id": call_id,
        "caller": {"number": who.get("number") or "", "name": who.get("name") or ""},
        "flow": call.get("flow"),
        "node": call.get("node"),
        "started_at": call.get("started_at"),
        "seconds": _seconds(_parse(call.get("started_at")), now),
        "queue": queue,
        "agent": agent,
        "where": where,
    }


def build_snapshot(
    *,
    now: datetime,
    config: AcdConfig,
    ring_cycle_s: float,
    queues: Mapping[str, QueueSnapshot],
    agents: Sequence[AgentStatus],
    callers: CallerLookup,
    live_calls: Sequence[Mapping[str, Any]],
    today: Mapping[str, Any] | None,
    target_share: float = DEFAULT_TARGET_SHARE,
) -> dict[str, Any]:
    """The wallboard's dict. ``queues`` from ``Distributor.queue_snapshot(now)``; ``live_calls`` from
    the call manager (id, caller, flow, node, started_at, queue); ``today`` is the report over today
    (``None``: not available, today's figures are then ``None``/0)."""
    by_queue: Mapping[str, Any] = (today or {}).get("queues", {})
    queue_rows = [
        _queue_row(name, config, snap, by_queue.get(name, {}), ring_cycle_s, target_share)
        for name, snap in queues.items()
        if name in config.queues
    ]
    agent_rows = sorted((_agent_row(s, config, callers, now) for s in agents), key=lambda r: r["id"])
    states: dict[str, int] = {}
    for row in agent_rows:
        states[row["state"]] = states.get(row["state"], 0) + 1
    return {
        "at": iso_utc(now),
        "today": {"since": iso_utc(start_of_day(now)), "available": today is not None},
        "target_share": target_share,
        "warn_band": WARN_BAND,
        "queues": queue_rows,
        "agents": agent_rows,
        "agent_states": dict(sorted(states.items())),
        "calls": [_call_row(c, callers, now) for c in live_calls],
    }


class TodayFigures:
    """Today's report, cached: fetched when older than ``max_age_s``, sooner (after ``settle_s``, but
    never twice within ``min_gap_s``) when a call ended; a failed fetch keeps the last figures."""

    def __init__(
        self,
        report: ReportFn,
        *,
        max_age_s: float = 5.0,
        settle_s: float = 1.0,
        min_gap_s: float = 2.0,
        timeout_s: float = 10.0,
        clock: Clock = _utcnow,
    ) -> None:
        self._report = report
        self._max_age = timedelta(seconds=max_age_s)
        self._settle = timedelta(seconds=settle_s)
        self._min_gap = timedelta(seconds=min_gap_s)
        self._timeout_s = timeout_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._value: dict[str, Any] | None = None
        self._day: datetime | None = None
        self._fetched_at: datetime | None = None
        self._due: datetime | None = None  # None: fetch at the next read
        self.fetches = 0

    def call_ended(self) -> None:
        """A call ended (its record lands in the store shortly): refresh soon."""
        if self._fetched_at is None:
            return
        now = self._clock()
        soon = max(now + self._settle, self._fetched_at + self._min_gap)
        self._due = soon if self._due is None else min(self._due, soon)

    def _is_due(self, now: datetime) -> bool:
        return self._due is None or now >= self._due or self._day != start_of_day(now)

    async def get(self) -> dict[str, Any] | None:
        """Today's report (fetching it first if due), or ``None`` if it was never available."""
        async with self._lock:
            now = self._clock()
            if self._is_due(now):
                await self._fetch(now)
        return self._value

    async def _fetch(self, now: datetime) -> None:
        day = start_of_day(now)
        self.fetches += 1
        try:
            async with asyncio.timeout(self._timeout_s):
                value = await self._report(day, day + timedelta(days=1))
        except Exception as exc:
            log.warning("wallboard: today's figures unavailable: %s", exc)
            if self._day != day:
                self._value = None  # yesterday's figures are not today's
        else:
            self._value = value
        self._day = day
        self._fetched_at = now
        self._due = now + self._max_age


class AcdWallboard:
    """The wallboard's source for the wiring: ``snapshot()`` and ``subscribe(notify)``."""

    def __init__(
        self,
        service: AcdService,
        report: ReportFn,
        live_calls: LiveCalls,
        calls_changed: list[Callable[[], None]] | None = None,
        *,
        target_share: float = DEFAULT_TARGET_SHARE,
        clock: Clock = _utcnow,
    ) -> None:
        """``calls_changed``: the call manager's hook list, told when a call starts or ends."""
        self._service = service
        self._live_calls = live_calls
        self._calls_changed = calls_changed
        self._target_share = target_share
        self._clock = clock
        self.today = TodayFigures(report, clock=clock)
        if calls_changed is not None:
            calls_changed.append(self.today.call_ended)

    def subscribe(self, notify: Callable[[], None]) -> None:
        """``notify`` is told of every change the ACD or the call manager sees (it must coalesce)."""
        self._service.changed.append(notify)
        if self._calls_changed is not None:
            self._calls_changed.append(notify)

    async def snapshot(self) -> dict[str, Any]:
        today = await self.today.get()
        now = self._clock()
        distributor = self._service.distributor
        return build_snapshot(
            now=now,
            config=distributor.config,
            ring_cycle_s=self._service.settings.ring_cycle_s,
            queues=distributor.queue_snapshot(now),
            agents=distributor.agents(),
            callers=self._service.callers,
            live_calls=self._live_calls(),
            today=today,
            target_share=self._target_share,
        )
