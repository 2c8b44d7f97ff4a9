"""The ACD as the rest of the system uses it: the call layer's queue port, the agents' and supervisors'
use cases, and the one task in which every ACD decision is taken in order.

Everything that changes the ACD — a caller queued or gone, an agent leg ringing, an agent's request, a
timer — becomes an item in one ordered queue; the task feeds it to the pure ``Distributor`` and has the
``Dispatcher`` execute the resulting commands, so no two decisions interleave. Agent requests from the
API are decided at once (they can be refused with 404/409) and their commands join the same queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from acd import conversation_marker
from acd.agent_book import RemoteAgentState
from acd.agents import AgentState, AgentStatus
from acd.caller_directory import Caller, CallerDirectory
from acd.department_transfer import DepartmentTransfers
from acd.dispatcher import Dispatcher
from acd.distributor import Distributor, UnknownAgent, UnknownCall
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
    ConnectFailed,
    ConversationEnded,
    OfferAnswered,
    OfferEnded,
    OfferRinging,
    Requeue,
    Tick,
)
from acd.model import AcdConfig
from acd.reservation import AgentReservations, InMemoryReservations
from acd.shared_line import Claim, claim_for
from ivr.ari.events import AriEvent, channel_id_of
from ivr.calls.legs import LegRegistry
from ivr.calls.ports import AriPort, QueueRequest
from ivr.flows.events import AgentConnected, Event, QueueDone

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Write = Callable[[Any], Any]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AcdSettings:
    ring_cycle_s: float = 3.0
    auto_login_on_register: bool = True
    outbound_dial: str = "PJSIP/trunk/sip:{number}@127.0.0.1:5070"
    agent_dial: str = "PJSIP/{agent}"
    """An operator's phone as Asterisk dials it (``Settings.agent_dial``: through Kamailio in a cluster)."""
    first_offer_number: int = 0
    """Offer numbers start after it (``Distributor``); the controller passes its start time in ms."""


class AcdService:
    def __init__(
        self,
        *,
        config: AcdConfig,
        ari: AriPort,
        legs: LegRegistry,
        submit: Callable[[Write], object],
        settings: AcdSettings,
        restored: list[AgentStatus] | None = None,
        reservations: AgentReservations | None = None,
        clock: Clock = _utcnow,
    ) -> None:
        self.settings = settings
        self._submit = submit
        self._clock = clock
        self.distributor = Distributor(
            config,
            ring_cycle_s=settings.ring_cycle_s,
            agents=restored or (),
            auto_login_on_register=settings.auto_login_on_register,
            first_offer_number=settings.first_offer_number,
        )
        self.callers = CallerDirectory()
        self._items: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.dispatcher = Dispatcher(
            ari=ari,
            legs=legs,
            reservations=reservations or InMemoryReservations(),
            callers=self.callers,
            report=self.report,
            leg_owner=self.on_leg_event,
            outbound_dial=settings.outbound_dial,
            agent_dial=settings.agent_dial,
            claim_of=self._claim_of,
        )
        self.departments = DepartmentTransfers(
            ari=ari, legs=legs, callers=self.callers, submit=submit, leg_owner=self.on_leg_event
        )
        self._offer_rang: dict[str, tuple[str, str]] = {}  # offer id -> (call id, agent) once it rang
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None
        self.listeners: list[Callable[[AgentStatus], None]] = []
        """Told of every agent state change (the wallboard)."""
        self.command_hooks: list[Callable[[AcdCommand], Awaitable[None]]] = []
        """Awaited with each command after the dispatcher ran it, in the ACD's order (the recorder takes
        ``RecordConversation``)."""
        self.changed: list[Callable[[], None]] = []
        """Told after each item the ACD's task took (a caller queued or gone, an offer, an agent's
        change, a timer): something a reader of queues or agents may see differently. Cheap, frequent:
        listeners coalesce (the wallboard pushes at most every 250 ms)."""

    # --- the ACD's task ------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="acd")
        for status in self.distributor.agents():
            self._record_state(status)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            kind, item = await self._items.get()
            try:
                if kind == "event":
                    await self._apply(item)
                elif kind == "leg":
                    if self.departments.owns(channel_id_of(item)):
                        await self.departments.on_leg_event(item)
                    else:
                        await self.dispatcher.on_leg_event(item)
                elif kind == "commands":
                    await self._execute(item)
                elif kind == "caller_left":
                    await self.dispatcher.caller_left(item)
                    await self.departments.caller_left(item)
                elif kind == "department":
                    call_id, department, extension = item
                    await self.dispatcher.release_operator(call_id)
                    await self.departments.start(call_id, department, extension)
                elif kind == "requeued":
                    await self.dispatcher.requeued(*item)
                elif kind == "remote":
                    await self._apply_remote(item)
            except Exception:
                log.exception("ACD: %s %r failed; continuing", kind, item)
            self._tell_changed()

    def _tell_changed(self) -> None:
        for listener in self.changed:
            try:
                listener()
            except Exception:
                log.exception("ACD: change listener failed; ignored")

    async def _apply(self, event: AcdEvent) -> None:
        now = self._clock()
        self._observe(event)
        commands = self.distributor.handle(event, now)
        await self._execute(commands)

    async def _apply_remote(self, remote: RemoteAgentState) -> None:
        before = self._status_of(remote.agent_id)
        commands = self.distributor.remote_agent_change(remote, self._clock())
        after = self._status_of(remote.agent_id)
        if after is not None and after != before:
            for listener in self.listeners:
                listener(after)
        await self._execute(commands)

    def _claim_of(self, call_id: str, agent_id: str) -> Claim | None:
        """What reserving ``agent_id`` for ``call_id`` claims (FIFO across nodes: ``acd.shared_line``)."""
        d = self.distributor
        return claim_for(d.in_line(call_id), agent_id, d.config.agents, d.config.queues)

    def _status_of(self, agent_id: str) -> AgentStatus | None:
        try:
            return self.distributor.agent(agent_id)
        except UnknownAgent:
            return None

    async def _execute(self, commands: list[AcdCommand]) -> None:
        for command in commands:
            self._record(command)
            await self.dispatcher.execute(command)
            for hook in self.command_hooks:
                await hook(command)
        self._arm_timer()

    def _arm_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.distributor.next_deadline()
        if deadline is None:
            return
        delay = max(0.0, (deadline - self._clock()).total_seconds())
        self._timer = asyncio.get_running_loop().call_later(delay + 0.001, self.report, Tick())

    def report(self, event: AcdEvent) -> None:
        """A fact for the distributor, taken in order."""
        self._items.put_nowait(("event", event))

    def hold_offers(self, seconds: float) -> None:
        """No offer for ``seconds`` from now (``Distributor.hold_offers``); a Tick ends the hold."""
        self.distributor.hold_offers(self._clock() + timedelta(seconds=seconds))
        self._arm_timer()

    def on_leg_event(self, event: AriEvent) -> None:
        """Owner of the ACD's legs in the call manager's leg registry."""
        self._items.put_nowait(("leg", event))

    # --- the call layer's queue port -----------------------------------------------------------

    def enter(self, request: QueueRequest, post: Callable[[Event], None]) -> None:
        if request.call_id in self.dispatcher.ended_while_away and not self._stale_mark(request):
            self.dispatcher.ended_while_away.discard(request.call_id)  # talked, operator gone meanwhile
            at, call_id = self._clock(), request.call_id
            agent = self.dispatcher.talked_with.pop(call_id, None)
            self.report(ConversationEnded(call_id, at))  # frees the restored agent
            self._submit(lambda store: store.close_open_offers(call_id, at, "answered", answered_by=agent))
            post(QueueDone(request.queue, "answered", agent=agent))
            return
        caller = Caller(request, post, request.queue)
        self.callers.add(caller)
        restored = self.dispatcher.restored.pop(request.call_id, None)
        if restored is not None:  # resumed after a controller restart while talking: still bridged
            agent, offer_id = restored
            caller.agent = agent
            self._offer_rang[offer_id] = (request.call_id, agent)  # closed when the conversation ends
            post(AgentConnected(request.queue, agent))
            return
        self.report(
            CallQueued(
                request.call_id, request.queue, request.priority, request.lang or None, request.entered_at
            )
        )

    def _stale_mark(self, request: QueueRequest) -> bool:
        """A conversation mark (``conversation_marker``) from an earlier wait than this one: the caller
        queued again since; the mark is dropped and the caller waits (the reconcile freed its operator)."""
        wait = self.dispatcher.talked_wait.pop(request.call_id, None)
        if wait is None or wait == conversation_marker.wait_key(request.entered_at):
            return False
        log.info("call %s: its conversation mark is from an earlier wait; it waits again", request.call_id)
        self.dispatcher.ended_while_away.discard(request.call_id)
        self.dispatcher.talked_with.pop(request.call_id, None)
        return True

    def leave(self, call_id: str, reason: str, *, callback_number: str | None = None) -> None:
        caller = self.callers.get(call_id)
        self.report(CallGone(call_id))
        self._items.put_nowait(("caller_left", call_id))
        if callback_number and caller is not None:
            self._queue_callback(call_id, callback_number, caller.queue, caller.request.entered_at)

    def request_callback(self, call_id: str, number: str, queue: str, note: str | None) -> None:
        self._queue_callback(call_id, number, queue, self._clock())

    def _queue_callback(self, call_id: str, number: str, queue: str, entered_at: datetime) -> None:
        self.report(CallQueued(call_id, queue, 0, None, entered_at, kind="callback", number=number))

    # --- agents --------------------------------------------------------------------------------

    def set_agent_state(self, agent_id: str, state: str, reason: str | None) -> AgentStatus:
        """A person's request (API, feature code). Raises ``UnknownAgent`` (404), ``TransitionNotAllowed``
        (409) or ``ValueError`` (422) before anything changes."""
        commands = self.distributor.handle(AgentRequest(agent_id, state, reason), self._clock())
        self._items.put_nowait(("commands", commands))
        return self.distributor.agent(agent_id)

    def remote_agent_change(self, remote: RemoteAgentState) -> None:
        """Another node changed an agent's state (cluster): taken in order, like every ACD event."""
        self._items.put_nowait(("remote", remote))

    def registered(self, agent_id: str, online: bool) -> None:
        self.report(AgentRegistered(agent_id, online))

    def requeue(self, call_id: str, queue: str) -> None:
        """Escalation: a talking caller goes to another queue, keeping the original arrival time.
        Raises ``UnknownCall`` / ``UnknownQueue``."""
        commands = self.distributor.handle(Requeue(call_id, queue, self._clock()), self._clock())
        self._close_answered_offers(call_id, self._clock())
        self._items.put_nowait(("requeued", (call_id, queue)))
        self._items.put_nowait(("commands", commands))

    def to_department(self, call_id: str, department: str, extension: str) -> None:
        """Escalation to a department's phone: the operator goes to wrap-up, the caller is put through
        to ``extension``. Raises ``UnknownCall`` when the caller is not with the ACD."""
        if self.callers.get(call_id) is None:
            raise UnknownCall(call_id)
        commands = self.distributor.handle(CallGone(call_id), self._clock())  # the ACD is done with it
        self._close_answered_offers(call_id, self._clock())
        self._items.put_nowait(("department", (call_id, department, extension)))
        self._items.put_nowait(("commands", commands))

    def reconfigure(self, config: AcdConfig) -> None:
        commands = self.distributor.reconfigure(config, self._clock())
        self._items.put_nowait(("commands", commands))

    # --- records -------------------------------------------------------------------------------

    def _observe(self, event: AcdEvent) -> None:
        match event:
            case OfferRinging(offer_id=offer_id, at=at):
                leg = self.dispatcher.by_offer.get(offer_id)
                if leg is not None and offer_id not in self._offer_rang:
                    self._offer_rang[offer_id] = (leg.call_id, leg.agent_id)
                    call_id, agent = leg.call_id, leg.agent_id
                    self._submit(lambda store: store.offer_started(call_id, agent, at))
            case OfferAnswered(offer_id=offer_id, at=at):
                rang = self._offer_rang.get(offer_id)
                if rang is not None:
                    call_id, agent = rang
                    self._submit(lambda store: store.offer_answered(call_id, agent, at))
            case ConversationEnded(call_id=call_id, at=at):
                self._close_answered_offers(call_id, at)
            case ConnectFailed(call_id=call_id, cause=cause, at=at):
                self._close_answered_offers(call_id, at, f"failed:{cause}")
            case _:
                pass

    def _record(self, command: AcdCommand) -> None:
        now = self._clock()
        match command:
            case AgentChanged(status=status):
                self._record_state(status)
                for listener in self.listeners:
                    listener(status)
            case OfferEnded(offer_id=offer_id, call_id=call_id, agent_id=agent, outcome=outcome):
                if outcome == "answered":
                    return  # closed when the conversation ends (talk time)
                if offer_id not in self._offer_rang:  # never rang: it still counts as an offer tried
                    self._submit(lambda store: store.offer_started(call_id, agent, now))
                self._offer_rang.pop(offer_id, None)
                self._offer_ended(call_id, agent, now, outcome)
            case CallbackAttempt(call_id=call_id, attempt=attempt, outcome=outcome):
                log.info("callback %s attempt %d: %s", call_id, attempt, outcome)
                self._submit(lambda store: store.callback_attempt(call_id, attempt, outcome, now))
                if outcome == "answered":
                    self._submit(lambda store: store.set_callbacks_of_call(call_id, "done"))
            case CallbackGaveUp(call_id=call_id, attempts=attempts):
                log.warning("callback %s: gave up after %d attempts", call_id, attempts)
                self._submit(lambda store: store.set_callbacks_of_call(call_id, "failed"))
            case _:
                pass

    def _close_answered_offers(self, call_id: str, at: datetime, outcome: str = "answered") -> None:
        """The operator's part of the call is over (conversation ended, handed on, or never bridged):
        close its offer."""
        for offer_id, (cid, agent) in list(self._offer_rang.items()):
            if cid == call_id:
                del self._offer_rang[offer_id]
                self._offer_ended(call_id, agent, at, outcome)

    def _offer_ended(self, call_id: str, agent: str, at: datetime, outcome: str) -> None:
        self._submit(lambda store: store.offer_ended(call_id, agent, at, outcome))

    def _record_state(self, status: AgentStatus) -> None:
        s = status
        self._submit(
            lambda store: store.agent_state_changed(s.id, str(s.state), s.reason, s.current_call, s.since)
        )

    # --- reads for the API ---------------------------------------------------------------------

    def agent_rows(self) -> list[dict[str, Any]]:
        config = {a.id: a for a in self.distributor.config.agents}
        rows = []
        for s in self.distributor.agents():
            cfg = config.get(s.id)
            rows.append(
                {
                    "id": s.id,
                    "name": cfg.name if cfg else s.id,
                    "state": str(s.state),
                    "state_since": _iso(s.since),
                    "reason": s.reason,
                    "skills": dict(cfg.skills) if cfg else {},
                    "languages": list(cfg.languages) if cfg else [],
                    "registered": s.registered,
                    "current_call": s.current_call if s.state != AgentState.LOGGED_OUT else None,
                    "calls_handled": s.calls_handled,
                }
            )
        return sorted(rows, key=lambda r: r["id"])


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
