"""The ACD's behaviour in one place: events and time in, commands out (pure, synchronous).

The I/O layer (dispatcher) feeds every event with the current time, executes the commands in order,
and sends ``Tick()`` at ``next_deadline()``. Deadlines (RONA, max wait, wrap-up end, announcements,
callback retries) are acted on only at a ``Tick``; routing runs after every event.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from acd.agents import AgentState, AgentStatus, TransitionNotAllowed, request_state
from acd.events import (
    AcdCommand,
    AcdEvent,
    AgentChanged,
    AgentRegistered,
    AgentRequest,
    CallbackAttempt,
    CallbackGaveUp,
    CallGone,
    CallQueued,
    CancelOffer,
    Connect,
    ConversationEnded,
    CustomerAnswered,
    CustomerFailed,
    DialCustomer,
    OfferAnswered,
    OfferEnded,
    OfferFailed,
    OfferRinging,
    QueueLeft,
    QueueStatus,
    Requeue,
    RingAgent,
    Tick,
)
from acd.model import AcdConfig, AgentConfig, QueueConfig
from acd.router import AgentView, WaitingCall, call_order, route_result

__all__ = [
    "Distributor",
    "QueueSnapshot",
    "TransitionNotAllowed",
    "UnknownAgent",
    "UnknownCall",
    "UnknownQueue",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RESERVED_ELSEWHERE = "reserved elsewhere"
_WAITING, _OFFERING, _DIALING, _CONNECTED = "waiting", "offering", "dialing", "connected"
_IDLE = (AgentState.LOGGED_OUT, AgentState.AVAILABLE, AgentState.PAUSED)


class UnknownAgent(KeyError):
    """No such agent (HTTP 404)."""


class UnknownCall(KeyError):
    pass


class UnknownQueue(KeyError):
    pass


@dataclass(frozen=True)
class QueueSnapshot:
    waiting: int
    """Calls waiting or being offered (callbacks not included)."""
    longest_wait_s: float
    available: int
    busy: int
    """Agents with the skill that are reserved, on a call or in wrap-up."""
    paused: int
    logged_in: int
    callbacks: int = 0


@dataclass
class _Call:
    call_id: str
    queue: str
    priority: int
    lang: str | None
    entered_at: datetime
    kind: str
    number: str | None
    wait_from: datetime
    """Max wait counts from here: the arrival, or the moment of a Requeue."""
    phase: str = _WAITING
    offers: set[str] = field(default_factory=set)
    agent: str | None = None
    excluded: dict[str, datetime] = field(default_factory=dict)
    attempts: int = 0
    not_before: datetime | None = None
    next_announce: datetime | None = None
    wrapup_s: float = 0.0
    offer_seq: int = 0


@dataclass
class _Offer:
    offer_id: str
    call_id: str
    agent_id: str
    started_at: datetime
    timeout_s: float
    ring_all: bool
    ringing_at: datetime | None = None


def expected_wait_s(position: int, aht_s: float, staffed: int) -> int:
    """EWT = ceil(position x AHT / max(1, staffed)).

    ``staffed`` = agents with the queue's skill that are logged in and not paused."""
    return math.ceil(position * aht_s / max(1, staffed))


class Distributor:
    def __init__(
        self,
        config: AcdConfig,
        *,
        ring_cycle_s: float = 3.0,
        agents: Iterable[AgentStatus] = (),
        auto_login_on_register: bool = False,
        require_registered: bool = False,
        callback_retry_after_s: float = 60.0,
        callback_max_attempts: int = 3,
        reserved_elsewhere_retry_s: float = 30.0,
    ) -> None:
        self.ring_cycle_s = ring_cycle_s
        self.auto_login_on_register = auto_login_on_register
        self.require_registered = require_registered
        self.callback_retry_after_s = callback_retry_after_s
        self.callback_max_attempts = callback_max_attempts
        self.reserved_elsewhere_retry_s = reserved_elsewhere_retry_s
        self._config = config
        self._cfg: dict[str, AgentConfig] = {a.id: a for a in config.agents}
        restored = {s.id: s for s in agents}
        self._status: dict[str, AgentStatus] = {}
        self._wrap_until: dict[str, datetime] = {}
        for a in config.agents:
            s = (
                replace(restored[a.id])
                if a.id in restored
                else AgentStatus(a.id, AgentState.LOGGED_OUT, EPOCH)
            )
            if s.state == AgentState.RESERVED:  # its offer died with the old process
                s = replace(s, state=AgentState.AVAILABLE, current_call=None)
            if s.state == AgentState.WRAP_UP:
                self._wrap_until[a.id] = s.since  # ends at the first Tick
            self._status[a.id] = s
        self._blocked: dict[str, datetime] = {}
        self._retiring: set[str] = set()
        self._views: dict[str, AgentView] = {}
        self._free: set[str] = set()
        for agent_id in self._status:
            self._refresh(agent_id)
        self._calls: dict[str, _Call] = {}
        self._offers: dict[str, _Offer] = {}
        self._rr: dict[str, int] = {}
        self._aht: dict[str, float] = {}
        self._now = EPOCH

    # ------------------------------------------------------------ reading

    @property
    def config(self) -> AcdConfig:
        return self._config

    def agents(self) -> list[AgentStatus]:
        return [replace(s) for s in self._status.values()]

    def agent(self, agent_id: str) -> AgentStatus:
        if agent_id not in self._status:
            raise UnknownAgent(agent_id)
        return replace(self._status[agent_id])

    def waiting(self, queue: str | None = None) -> list[WaitingCall]:
        """Calls not yet connected, in routing order; ``busy_with`` = agents being rung for each."""
        calls = [
            self._view(c, EPOCH)
            for c in self._calls.values()
            if c.phase in (_WAITING, _OFFERING) and (queue is None or c.queue == queue)
        ]
        return sorted(calls, key=call_order)

    def set_measured_aht(self, queue: str, aht_s: float) -> None:
        """Use a measured average handling time for this queue's EWT instead of ``aht_estimate``."""
        self._aht[queue] = aht_s

    def queue_snapshot(self, now: datetime) -> dict[str, QueueSnapshot]:
        out: dict[str, QueueSnapshot] = {}
        for name, q in self._config.queues.items():
            calls = [c for c in self._calls.values() if c.queue == name and c.phase in (_WAITING, _OFFERING)]
            live = [c for c in calls if c.kind == "call"]
            states = [self._status[a].state for a, cfg in self._cfg.items() if q.skill in cfg.skills]
            out[name] = QueueSnapshot(
                waiting=len(live),
                longest_wait_s=max(((now - c.entered_at).total_seconds() for c in live), default=0.0),
                available=sum(s == AgentState.AVAILABLE for s in states),
                busy=sum(s in (AgentState.RESERVED, AgentState.ON_CALL, AgentState.WRAP_UP) for s in states),
                paused=sum(s == AgentState.PAUSED for s in states),
                logged_in=sum(s != AgentState.LOGGED_OUT for s in states),
                callbacks=len(calls) - len(live),
            )
        return out

    def next_deadline(self) -> datetime | None:
        """When the I/O layer must send ``Tick()`` (None: nothing is timed)."""
        times: list[datetime] = [o.started_at + timedelta(seconds=o.timeout_s) for o in self._offers.values()]
        times += self._wrap_until.values()
        times += self._blocked.values()
        for c in self._calls.values():
            if c.phase not in (_WAITING, _OFFERING):
                continue
            q = self._config.queues.get(c.queue)
            if q is None:
                continue
            if c.kind == "call":
                times.append(c.wait_from + timedelta(seconds=q.max_wait_s))
            if c.phase == _OFFERING:
                continue
            if c.next_announce is not None:
                times.append(c.next_announce)
            if c.not_before is not None:
                times.append(c.not_before)
            times += c.excluded.values()
            relax_at = (c.entered_at + timedelta(seconds=r.after_s) for r in q.relax)
            times += (t for t in relax_at if t > self._now)
        return min(times, default=None)

    # ------------------------------------------------------------ events

    def handle(self, event: AcdEvent, now: datetime) -> list[AcdCommand]:
        """Apply one event. ``AgentRequest`` raises ``UnknownAgent``/``TransitionNotAllowed``/ValueError
        and ``Requeue`` raises ``UnknownCall``/``UnknownQueue`` before anything changes."""
        out: list[AcdCommand] = []
        self._now = max(self._now, now)
        match event:
            case CallQueued():
                self._queued(event, now, out)
            case CallGone():
                self._gone(event.call_id, now, out)
            case AgentRequest():
                self._request(event, now, out)
            case AgentRegistered():
                self._registered(event, now, out)
            case OfferRinging():
                if (offer := self._offers.get(event.offer_id)) is not None:
                    offer.ringing_at = event.at
            case OfferAnswered():
                self._answered(event.offer_id, now, out)
            case OfferFailed():
                self._failed(event, now, out)
            case ConversationEnded():
                self._ended(event.call_id, now, out)
            case Requeue():
                self._requeue(event, now, out)
            case CustomerAnswered():
                self._customer_answered(event.call_id, out)
            case CustomerFailed():
                self._customer_failed(event, now, out)
            case Tick():
                self._tick(now, out)
        self._route(now, out)
        return out

    def reconfigure(self, config: AcdConfig, now: datetime) -> list[AcdCommand]:
        """Hot reload. Never logs anyone out, except agents removed from the file (once idle)."""
        out: list[AcdCommand] = []
        self._now = max(self._now, now)
        self._config = config
        self._cfg = {a.id: a for a in config.agents}
        for a in config.agents:
            if a.id not in self._status:
                self._status[a.id] = AgentStatus(a.id, AgentState.LOGGED_OUT, now)
                out.append(AgentChanged(replace(self._status[a.id])))
            self._retiring.discard(a.id)
        for agent_id in [a for a in self._status if a not in self._cfg]:
            self._retiring.add(agent_id)
            self._retire_if_idle(agent_id, now, out)
        for agent_id in self._status:
            self._refresh(agent_id)
        for call in list(self._calls.values()):
            if call.queue not in config.queues and call.phase in (_WAITING, _OFFERING):
                self._cancel_offers(call, "queue removed", "cancelled", now, out)
                self._drop(call)
                out.append(QueueLeft(call.call_id, "unknown_queue"))
        self._route(now, out)
        return out

    # ------------------------------------------------------------ agents

    def _refresh(self, agent_id: str) -> None:
        s = self._status[agent_id]
        cfg = self._cfg.get(agent_id)
        free = (
            cfg is not None
            and s.state == AgentState.AVAILABLE
            and agent_id not in self._blocked
            and agent_id not in self._retiring
            and (s.registered or not self.require_registered)
        )
        if cfg is None:
            self._views.pop(agent_id, None)
        else:
            self._views[agent_id] = AgentView(
                agent_id, cfg.skills, cfg.languages, free, s.since, s.calls_handled
            )
        if free:
            self._free.add(agent_id)
        else:
            self._free.discard(agent_id)

    def _set(self, agent_id: str, now: datetime, out: list[AcdCommand], **changes: object) -> None:
        old = self._status[agent_id]
        new = replace(old, **changes)  # type: ignore[arg-type]
        if new.state != old.state:
            new.since = now
            self._wrap_until.pop(agent_id, None)
        if new == old:
            return
        self._status[agent_id] = new
        out.append(AgentChanged(replace(new)))
        self._refresh(agent_id)
        self._retire_if_idle(agent_id, now, out)

    def _retire_if_idle(self, agent_id: str, now: datetime, out: list[AcdCommand]) -> None:
        if agent_id not in self._retiring or self._status[agent_id].state not in _IDLE:
            return
        self._retiring.discard(agent_id)
        s = self._status.pop(agent_id)
        self._views.pop(agent_id, None)
        self._free.discard(agent_id)
        self._blocked.pop(agent_id, None)
        if s.state != AgentState.LOGGED_OUT:
            gone = replace(s, state=AgentState.LOGGED_OUT, since=now, reason="removed from config")
            out.append(AgentChanged(gone))

    def _wrap_up(self, agent_id: str, call: _Call, now: datetime, out: list[AcdCommand]) -> None:
        if agent_id not in self._status:
            return
        if call.wrapup_s <= 0:
            self._set(
                agent_id,
                now,
                out,
                state=AgentState.AVAILABLE,
                reason=None,
                current_call=None,
                last_call_ended_at=now,
            )
            return
        self._set(
            agent_id,
            now,
            out,
            state=AgentState.WRAP_UP,
            reason=None,
            current_call=call.call_id,
            last_call_ended_at=now,
        )
        if agent_id in self._status and self._status[agent_id].state == AgentState.WRAP_UP:
            self._wrap_until[agent_id] = now + timedelta(seconds=call.wrapup_s)

    def _request(self, event: AgentRequest, now: datetime, out: list[AcdCommand]) -> None:
        if event.agent_id not in self._status:
            raise UnknownAgent(event.agent_id)
        old = self._status[event.agent_id]
        new = request_state(old, event.state, event.reason, now)  # raises before anything changes
        self._blocked.pop(event.agent_id, None)
        if old.state == AgentState.RESERVED:
            for offer in [o for o in self._offers.values() if o.agent_id == event.agent_id]:
                self._end_offer(offer, "agent logged out", "cancelled", out)
                self._back_to_waiting(self._calls[offer.call_id])
        self._set(event.agent_id, now, out, state=new.state, reason=new.reason, current_call=new.current_call)
        if event.agent_id in self._status:
            self._refresh(event.agent_id)

    def _registered(self, event: AgentRegistered, now: datetime, out: list[AcdCommand]) -> None:
        if event.agent_id not in self._status:
            return
        self._blocked.pop(event.agent_id, None)
        s = self._status[event.agent_id]
        # Only a phone coming online logs its agent in: device-state churn while it stays registered
        # (ringing, in use, idle again) must not undo a log-out.
        if (
            event.online
            and not s.registered
            and self.auto_login_on_register
            and s.state == AgentState.LOGGED_OUT
        ):
            self._set(
                event.agent_id, now, out, registered=True, state=AgentState.AVAILABLE, reason="registered"
            )
        else:
            self._set(event.agent_id, now, out, registered=event.online)
        if event.agent_id in self._status:
            self._refresh(event.agent_id)

    # ------------------------------------------------------------ calls

    def _view(self, call: _Call, now: datetime) -> WaitingCall:
        q = self._config.queues.get(call.queue)
        busy = frozenset(self._offers[o].agent_id for o in call.offers)
        excluded = frozenset(a for a, until in call.excluded.items() if until > now)
        return WaitingCall(
            call.call_id,
            call.queue,
            call.priority + (q.priority if q else 0),
            call.entered_at,
            call.lang,
            call.kind,
            busy,
            excluded,
        )

    def _has_agents(self, queue: QueueConfig) -> bool:
        return any(
            queue.skill in cfg.skills and self._status[a].state != AgentState.LOGGED_OUT
            for a, cfg in self._cfg.items()
            if a in self._status
        )

    def _queued(self, event: CallQueued, now: datetime, out: list[AcdCommand]) -> None:
        if event.call_id in self._calls:
            return
        q = self._config.queues.get(event.queue)
        if q is None:
            out.append(QueueLeft(event.call_id, "unknown_queue"))
            return
        if event.kind == "call" and not self._has_agents(q):
            out.append(QueueLeft(event.call_id, "no_agents"))
            return
        call = _Call(
            event.call_id,
            event.queue,
            event.priority,
            event.lang,
            event.entered_at,
            event.kind,
            event.number,
            wait_from=event.entered_at,
        )
        self._announce_from(call, q, now)
        self._calls[call.call_id] = call

    def _announce_from(self, call: _Call, q: QueueConfig, now: datetime) -> None:
        every = q.announce_every_s
        call.next_announce = now + timedelta(seconds=every) if every > 0 and call.kind == "call" else None

    def _drop(self, call: _Call) -> None:
        self._calls.pop(call.call_id, None)

    def _end_offer(self, offer: _Offer, cancel: str | None, outcome: str, out: list[AcdCommand]) -> None:
        self._offers.pop(offer.offer_id, None)
        call = self._calls.get(offer.call_id)
        if call is not None:
            call.offers.discard(offer.offer_id)
        if cancel is not None:
            out.append(CancelOffer(offer.offer_id, cancel, offer.call_id, offer.agent_id))
        out.append(OfferEnded(offer.offer_id, offer.call_id, offer.agent_id, outcome))

    def _free_agent(self, agent_id: str, now: datetime, out: list[AcdCommand]) -> None:
        """Back to available after an offer that did not become a conversation (never paused)."""
        if agent_id in self._status and self._status[agent_id].state == AgentState.RESERVED:
            self._set(agent_id, now, out, state=AgentState.AVAILABLE, reason=None, current_call=None)

    def _cancel_offers(
        self, call: _Call, reason: str, outcome: str, now: datetime, out: list[AcdCommand]
    ) -> None:
        for offer_id in sorted(call.offers):
            offer = self._offers[offer_id]
            self._end_offer(offer, reason, outcome, out)
            self._free_agent(offer.agent_id, now, out)

    def _back_to_waiting(self, call: _Call) -> None:
        if call.phase == _OFFERING and not call.offers:
            call.phase = _WAITING

    def _gone(self, call_id: str, now: datetime, out: list[AcdCommand]) -> None:
        call = self._calls.get(call_id)
        if call is None:
            self._orphan_ended(call_id, now, out)
            return
        self._cancel_offers(call, "caller gone", "cancelled", now, out)
        self._drop(call)
        if call.agent is not None and call.phase == _CONNECTED:
            self._wrap_up(call.agent, call, now, out)
        elif call.agent is not None and call.agent in self._status:  # callback withdrawn while dialing
            self._set(call.agent, now, out, state=AgentState.AVAILABLE, reason=None, current_call=None)

    def _orphan_ended(self, call_id: str, now: datetime, out: list[AcdCommand]) -> None:
        """A call this process never queued (agents restored after a restart) ended: free its agent."""
        for agent_id, s in list(self._status.items()):
            if s.current_call == call_id and s.state in (AgentState.ON_CALL, AgentState.RESERVED):
                self._set(
                    agent_id, now, out, state=AgentState.AVAILABLE, current_call=None, last_call_ended_at=now
                )

    def _ended(self, call_id: str, now: datetime, out: list[AcdCommand]) -> None:
        call = self._calls.get(call_id)
        if call is None or call.phase not in (_CONNECTED, _DIALING):
            self._gone(call_id, now, out)
            return
        self._drop(call)
        if call.agent is not None:
            self._wrap_up(call.agent, call, now, out)

    def _requeue(self, event: Requeue, now: datetime, out: list[AcdCommand]) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            raise UnknownCall(event.call_id)
        q = self._config.queues.get(event.queue)
        if q is None:
            raise UnknownQueue(event.queue)
        self._cancel_offers(call, "requeued", "cancelled", now, out)
        if call.agent is not None:
            self._wrap_up(call.agent, call, now, out)
        call.agent = None
        call.queue = event.queue
        call.phase = _WAITING
        call.excluded.clear()
        call.wait_from = event.at
        self._announce_from(call, q, now)
        if call.kind == "call" and not self._has_agents(q):
            self._drop(call)
            out.append(QueueLeft(call.call_id, "no_agents"))

    # ------------------------------------------------------------ offers

    def _answered(self, offer_id: str, now: datetime, out: list[AcdCommand]) -> None:
        offer = self._offers.get(offer_id)
        if offer is None:  # already cancelled / lost: make sure that leg is hung up
            out.append(CancelOffer(offer_id, "offer no longer valid"))
            return
        call = self._calls[offer.call_id]
        self._end_offer(offer, None, "answered", out)
        self._cancel_offers(call, "answered elsewhere", "lost", now, out)
        q = self._config.queues.get(call.queue)
        call.wrapup_s = q.wrapup_s if q else 0.0
        call.agent = offer.agent_id
        handled = self._status[offer.agent_id].calls_handled + 1
        self._set(
            offer.agent_id,
            now,
            out,
            state=AgentState.ON_CALL,
            reason=None,
            current_call=call.call_id,
            calls_handled=handled,
        )
        if call.kind == "callback":
            call.phase = _DIALING
            call.attempts += 1
            out.append(DialCustomer(offer_id, call.call_id, offer.agent_id, call.number))
        else:
            call.phase = _CONNECTED
            out.append(Connect(offer_id, call.call_id, offer.agent_id))

    def _failed(self, event: OfferFailed, now: datetime, out: list[AcdCommand]) -> None:
        offer = self._offers.get(event.offer_id)
        if offer is None:
            return
        call = self._calls[offer.call_id]
        self._end_offer(offer, None, f"failed:{event.cause}", out)
        agent_id = offer.agent_id
        reserved = agent_id in self._status and self._status[agent_id].state == AgentState.RESERVED
        if event.cause == RESERVED_ELSEWHERE:
            self._blocked[agent_id] = now + timedelta(seconds=self.reserved_elsewhere_retry_s)
            self._free_agent(agent_id, now, out)
            if agent_id in self._status:
                self._refresh(agent_id)
        elif event.cause == "unreachable" and reserved:
            self._set(agent_id, now, out, state=AgentState.PAUSED, reason="unreachable", current_call=None)
        else:
            q = self._config.queues.get(call.queue)
            call.excluded[agent_id] = now + timedelta(seconds=q.ring_timeout_s if q else 0.0)
            self._free_agent(agent_id, now, out)
        self._back_to_waiting(call)

    def _customer_answered(self, call_id: str, out: list[AcdCommand]) -> None:
        call = self._calls.get(call_id)
        if call is None or call.phase != _DIALING:
            return
        call.phase = _CONNECTED
        out.append(CallbackAttempt(call_id, call.attempts, "answered"))

    def _customer_failed(self, event: CustomerFailed, now: datetime, out: list[AcdCommand]) -> None:
        call = self._calls.get(event.call_id)
        if call is None or call.phase != _DIALING:
            return
        out.append(CallbackAttempt(call.call_id, call.attempts, f"failed:{event.cause}"))
        if call.agent is not None and call.agent in self._status:
            self._set(call.agent, now, out, state=AgentState.AVAILABLE, reason=None, current_call=None)
        call.agent = None
        if call.attempts >= self.callback_max_attempts:
            self._drop(call)
            out.append(CallbackGaveUp(call.call_id, call.attempts))
            return
        call.phase = _WAITING
        call.not_before = now + timedelta(seconds=self.callback_retry_after_s)

    # ------------------------------------------------------------ time

    def _tick(self, now: datetime, out: list[AcdCommand]) -> None:
        for offer in sorted(self._offers.values(), key=lambda o: o.offer_id):
            if offer.started_at + timedelta(seconds=offer.timeout_s) > now:
                continue
            self._end_offer(offer, "no answer", "no_answer", out)
            agent = self._status.get(offer.agent_id)
            if offer.ring_all:
                self._free_agent(offer.agent_id, now, out)
            elif agent is not None and agent.state == AgentState.RESERVED:
                self._set(
                    offer.agent_id, now, out, state=AgentState.PAUSED, reason="no answer", current_call=None
                )
            self._back_to_waiting(self._calls[offer.call_id])
        for agent_id, until in list(self._wrap_until.items()):
            if until <= now:
                self._set(agent_id, now, out, state=AgentState.AVAILABLE, reason=None, current_call=None)
        for agent_id, until in list(self._blocked.items()):
            if until <= now:
                del self._blocked[agent_id]
                if agent_id in self._status:
                    self._refresh(agent_id)
        for call in list(self._calls.values()):
            q = self._config.queues.get(call.queue)
            if q is None or call.phase not in (_WAITING, _OFFERING):
                continue
            for agent_id, until in list(call.excluded.items()):
                if until <= now:
                    del call.excluded[agent_id]
            if call.not_before is not None and call.not_before <= now:
                call.not_before = None
            if call.kind == "call" and call.wait_from + timedelta(seconds=q.max_wait_s) <= now:
                self._cancel_offers(call, "max wait", "cancelled", now, out)
                self._drop(call)
                out.append(QueueLeft(call.call_id, "timeout"))
        self._announce(now, out)

    def _announce(self, now: datetime, out: list[AcdCommand]) -> None:
        due = [
            c
            for c in self._calls.values()
            if c.next_announce is not None and c.next_announce <= now and c.phase in (_WAITING, _OFFERING)
        ]
        positions: dict[str, dict[str, int]] = {}
        for call in sorted(due, key=lambda c: c.call_id):
            q = self._config.queues[call.queue]
            assert call.next_announce is not None
            if q.announce_every_s <= 0:  # turned off by a reload
                call.next_announce = None
                continue
            while call.next_announce <= now:
                call.next_announce += timedelta(seconds=q.announce_every_s)
            if call.phase != _WAITING:
                continue
            if call.queue not in positions:
                ordered = self.waiting(call.queue)
                positions[call.queue] = {w.call_id: i for i, w in enumerate(ordered, start=1)}
            position = positions[call.queue][call.call_id]
            aht = self._aht.get(call.queue, q.aht_estimate_s)
            out.append(QueueStatus(call.call_id, position, expected_wait_s(position, aht, self._staffed(q))))

    def _staffed(self, q: QueueConfig) -> int:
        return sum(
            1
            for a, cfg in self._cfg.items()
            if q.skill in cfg.skills
            and a in self._status
            and self._status[a].state not in (AgentState.LOGGED_OUT, AgentState.PAUSED)
        )

    # ------------------------------------------------------------ routing

    def _route(self, now: datetime, out: list[AcdCommand]) -> None:
        if not self._free:
            return
        waiting = [
            self._view(c, now)
            for c in self._calls.values()
            if c.phase == _WAITING and (c.not_before is None or c.not_before <= now)
        ]
        if not waiting:
            return
        result = route_result(self._views, waiting, self._config.queues, now, self._rr)
        self._rr = result.rr_pointers
        for match in result.matches:
            call = self._calls[match.call_id]
            q = self._config.queues[call.queue]
            call.phase = _OFFERING
            for agent_id in match.agent_ids:
                call.offer_seq += 1
                offer = _Offer(
                    f"{call.call_id}-o{call.offer_seq}",
                    call.call_id,
                    agent_id,
                    now,
                    q.ring_timeout_s,
                    ring_all=q.strategy == "ring-all",
                )
                self._offers[offer.offer_id] = offer
                call.offers.add(offer.offer_id)
                self._set(
                    agent_id, now, out, state=AgentState.RESERVED, reason=None, current_call=call.call_id
                )
                out.append(RingAgent(offer.offer_id, call.call_id, agent_id, q.ring_timeout_s, call.kind))
