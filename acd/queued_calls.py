"""The distributor's record of each call it holds, from ``CallQueued`` until the call leaves or its
conversation ends: its phase, its offers, who it must not be offered to, and its timers."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from acd.events import CallQueued
from acd.model import QueueConfig
from acd.router import WaitingCall

WAITING, OFFERING, DIALING, CONNECTED = "waiting", "offering", "dialing", "connected"
"""A call's phases: in line; agents being rung; (callback) the customer being dialled; talking."""
IN_LINE = (WAITING, OFFERING)
"""The phases of a call still in its queue."""


@dataclass
class QueuedCall:
    call_id: str
    queue: str
    priority: int
    lang: str | None
    entered_at: datetime
    kind: str
    number: str | None
    wait_from: datetime
    """Max wait counts from here: the arrival, or the moment of a Requeue."""
    phase: str = WAITING
    offers: set[str] = field(default_factory=set)
    agent: str | None = None
    excluded: dict[str, datetime] = field(default_factory=dict)
    attempts: int = 0
    not_before: datetime | None = None
    next_announce: datetime | None = None
    wrapup_s: float = 0.0
    offer_seq: int = 0


def new_call(event: CallQueued) -> QueuedCall:
    return QueuedCall(
        event.call_id,
        event.queue,
        event.priority,
        event.lang,
        event.entered_at,
        event.kind,
        event.number,
        wait_from=event.entered_at,
    )


def waiting_view(
    call: QueuedCall, queues: Mapping[str, QueueConfig], ringing: Collection[str], now: datetime
) -> WaitingCall:
    """What the router sees of the call; ``ringing`` = the agents being offered it now."""
    q = queues.get(call.queue)
    excluded = frozenset(a for a, until in call.excluded.items() if until > now)
    return WaitingCall(
        call.call_id,
        call.queue,
        call.priority + (q.priority if q else 0),
        call.entered_at,
        call.lang,
        call.kind,
        frozenset(ringing),
        excluded,
    )


def announce_from(call: QueuedCall, q: QueueConfig, now: datetime) -> None:
    """Start the call's announcement timer (live calls only, if the queue announces)."""
    every = q.announce_every_s
    call.next_announce = now + timedelta(seconds=every) if every > 0 and call.kind == "call" else None


def back_to_waiting(call: QueuedCall) -> None:
    """The call's last offer ended: back in line, keeping its place."""
    if call.phase == OFFERING and not call.offers:
        call.phase = WAITING


def deadlines(call: QueuedCall, q: QueueConfig, now: datetime) -> list[datetime]:
    """When something about this call in line is due (call it only for a call in ``IN_LINE``)."""
    times: list[datetime] = []
    if call.kind == "call":
        times.append(call.wait_from + timedelta(seconds=q.max_wait_s))
    if call.phase == OFFERING:
        return times
    if call.next_announce is not None:
        times.append(call.next_announce)
    if call.not_before is not None:
        times.append(call.not_before)
    times += call.excluded.values()
    relax_at = (call.entered_at + timedelta(seconds=r.after_s) for r in q.relax)
    times += (t for t in relax_at if t > now)
    return times


def clear_due_holds(call: QueuedCall, now: datetime) -> None:
    """End the exclusions and the callback retry delay that are due."""
    for agent_id, until in list(call.excluded.items()):
        if until <= now:
            del call.excluded[agent_id]
    if call.not_before is not None and call.not_before <= now:
        call.not_before = None


def max_wait_reached(call: QueuedCall, q: QueueConfig, now: datetime) -> bool:
    """A live call has waited ``max_wait`` since it arrived or was requeued (callbacks never do)."""
    return call.kind == "call" and call.wait_from + timedelta(seconds=q.max_wait_s) <= now
