"""The ACD's behaviour in one place: events and time in, commands out (pure, synchronous).

The I/O layer (dispatcher) feeds every event with the current time, executes the commands in order,
and sends ``Tick()`` at ``next_deadline()``. Deadlines (RONA, max wait, wrap-up end, announcements,
callback retries) are acted on only at a ``Tick``; routing runs after every event.

The ``Distributor`` decides; its bookkeeping lives beside it: agents in ``agent_book``, calls in
``queued_calls``, offers in ``offers``, announcements in ``announcements``, a callback's customer
leg in ``callbacks``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from acd.agent_book import EPOCH, AgentBook, RemoteAgentState
from acd.agents import AgentState, AgentStatus, TransitionNotAllowed, request_state
from acd.announcements import announce_due, expected_wait_s
from acd.callbacks import customer_answered, customer_failed
from acd.events import (
    AcdCommand,
    AcdEvent,
    AgentRegistered,
    AgentRequest,
    CallGone,
    CallQueued,
    ConnectFailed,
    ConversationEnded,
    CustomerAnswered,
    CustomerFailed,
    OfferAnswered,
    OfferFailed,
    OfferRinging,
    QueueLeft,
    Requeue,
    Tick,
)
from acd.model import AcdConfig
from acd.offers import Offers
from acd.queued_calls import (
    CONNECTED,
    DIALING,
    IN_LINE,
    WAITING,
    QueuedCall,
    announce_from,
    clear_due_holds,
    deadlines,
    max_wait_reached,
    new_call,
    waiting_view,
)
from acd.router import WaitingCall, call_order, route_result

__all__ = [
    "Distributor",
    "QueueSnapshot",
    "TransitionNotAllowed",
    "UnknownAgent",
    "UnknownCall",
    "UnknownQueue",
    "expected_wait_s",
]


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
        first_offer_number: int = 0,
    ) -> None:
        """``first_offer_number``: offers are numbered after it (``<call id>-o<n>``, also their agent
        leg's channel id); a restarted controller passes a larger one than the process before it, so a
        caller it adopts is never offered on the id of a leg left by that process (hung up as it
        starts: its ``ChannelDestroyed`` would end the new offer at once)."""
        self.ring_cycle_s = ring_cycle_s
        self.auto_login_on_register = auto_login_on_register
        self.callback_retry_after_s = callback_retry_after_s
        self.callback_max_attempts = callback_max_attempts
        self.reserved_elsewhere_retry_s = reserved_elsewhere_retry_s
        self._config = config
        self._agents = AgentBook(config.agents, agents, require_registered=require_registered)
        self._calls: dict[str, QueuedCall] = {}
        self._offers = Offers(self._calls, self._agents, first_offer_number)
        self._rr: dict[str, int] = {}
        self._aht: dict[str, float] = {}
        self._now = EPOCH
        self._held_until: datetime | None = None

    def hold_offers(self, until: datetime | None) -> None:
        """Make no offer before ``until`` (None: offer again now). After a controller restart the callers
        who were waiting come back one by one as they are adopted: offering at once would give a free
        operator to whichever came back first, not to the one who has waited longest."""
        self._held_until = until

    @property
    def require_registered(self) -> bool:
        """Only agents whose phone is registered are offered calls."""
        return self._agents.require_registered

    @require_registered.setter
    def require_registered(self, value: bool) -> None:
        self._agents.require_registered = value

    # ------------------------------------------------------------ reading

    @property
    def config(self) -> AcdConfig:
        return self._config

    def agents(self) -> list[AgentStatus]:
        return [replace(s) for s in self._agents.status.values()]

    def agent(self, agent_id: str) -> AgentStatus:
        if agent_id not in self._agents.status:
            raise UnknownAgent(agent_id)
        return replace(self._agents.status[agent_id])

    def waiting(self, queue: str | None = None) -> list[WaitingCall]:
        """Calls not yet connected, in routing order; ``busy_with`` = agents being rung for each."""
        calls = [
            self._view(c, EPOCH)
            for c in self._calls.values()
            if c.phase in IN_LINE and (queue is None or c.queue == queue)
        ]
        return sorted(calls, key=call_order)

    def in_line(self, call_id: str) -> WaitingCall | None:
        """The call as the router sees it while it is in line (waiting or being offered), else None."""
        call = self._calls.get(call_id)
        return self._view(call, self._now) if call is not None and call.phase in IN_LINE else None

    def shared_line(self) -> list[WaitingCall]:
        """The calls in line that may be offered (not held back by a retry delay): this node's part of
        a cluster's line (``acd.shared_line``)."""
        return [
            self._view(c, self._now)
            for c in self._calls.values()
            if c.phase in IN_LINE and (c.not_before is None or c.not_before <= self._now)
        ]

    def set_measured_aht(self, queue: str, aht_s: float) -> None:
        """Use a measured average handling time for this queue's EWT instead of ``aht_estimate``."""
        self._aht[queue] = aht_s

    def queue_snapshot(self, now: datetime) -> dict[str, QueueSnapshot]:
        out: dict[str, QueueSnapshot] = {}
        for name, q in self._config.queues.items():
            calls = [c for c in self._calls.values() if c.queue == name and c.phase in IN_LINE]
            live = [c for c in calls if c.kind == "call"]
            states = self._agents.states_with_skill(q.skill)
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
        times = self._offers.deadlines() + self._agents.deadlines()
        if self._held_until is not None:
            times.append(self._held_until)
        for c in self._calls.values():
            q = self._config.queues.get(c.queue)
            if c.phase in IN_LINE and q is not None:
                times += deadlines(c, q, self._now)
        return min(times, default=None)

    # ------------------------------------------------------------ events

    def handle(self, event: AcdEvent, now: datetime) -> list[AcdCommand]:
        """Apply one event. ``AgentRequest`` raises ``UnknownAgent``/``TransitionNotAllowed``/ValueError
        and ``Requeue`` raises ``UnknownCall``/``UnknownQueue`` before anything changes."""
        out: list[AcdCommand] = []
        self._now = max(self._now, now)
        queues = self._config.queues
        match event:
            case CallQueued():
                self._queued(event, now, out)
            case CallGone():
                self._gone(event.call_id, now, out)
            case AgentRequest():
                self._request(event, now, out)
            case AgentRegistered():
                self._agents.registered(event, self.auto_login_on_register, now, out)
            case OfferRinging():
                self._offers.ringing(event.offer_id, event.at)
            case OfferAnswered():
                self._offers.answered(event.offer_id, queues, now, out)
            case OfferFailed():
                self._offers.failed(event, queues, self.reserved_elsewhere_retry_s, now, out)
            case ConversationEnded():
                self._ended(event.call_id, now, out)
            case ConnectFailed():
                self._connect_failed(event, now, out)
            case Requeue():
                self._requeue(event, now, out)
            case CustomerAnswered():
                customer_answered(self._calls, event.call_id, out)
            case CustomerFailed():
                customer_failed(
                    self._calls,
                    self._agents,
                    event,
                    retry_after_s=self.callback_retry_after_s,
                    max_attempts=self.callback_max_attempts,
                    now=now,
                    out=out,
                )
            case Tick():
                self._tick(now, out)
        self._route(now, out)
        return out

    def reconfigure(self, config: AcdConfig, now: datetime) -> list[AcdCommand]:
        """Hot reload. Never logs anyone out, except agents removed from the file (once idle)."""
        out: list[AcdCommand] = []
        self._now = max(self._now, now)
        self._config = config
        self._agents.reconfigure(config.agents, now, out)
        for call in list(self._calls.values()):
            if call.queue not in config.queues and call.phase in IN_LINE:
                self._offers.cancel_all(call, "queue removed", "cancelled", now, out)
                self._drop(call)
                out.append(QueueLeft(call.call_id, "unknown_queue"))
        self._route(now, out)
        return out

    def remote_agent_change(self, remote: RemoteAgentState, now: datetime) -> list[AcdCommand]:
        """Another node changed an agent's state (``AgentBook.adopt_remote``); an agent now available
        here is offered the longest-waiting call at once. Unknown agents are ignored."""
        out: list[AcdCommand] = []
        self._now = max(self._now, now)
        claimed = self._claimed(remote.agent_id)
        status = self._agents.status.get(remote.agent_id)
        if (
            claimed
            and status is not None
            and status.state == AgentState.RESERVED
            and remote.state in (AgentState.LOGGED_OUT, AgentState.PAUSED)
            and remote.since >= status.since
        ):  # logged out or paused elsewhere while rung here: as if asked here, the offer is withdrawn
            self._offers.withdraw_agent(remote.agent_id, out)
            claimed = False
        self._agents.adopt_remote(remote, claimed=claimed)
        self._route(now, out)
        return out

    def _claimed(self, agent_id: str) -> bool:
        """This node is offering the agent a call, or the agent talks with (or dials for) a caller here."""
        if any(o.agent_id == agent_id for o in self._offers.live.values()):
            return True
        return any(c.agent == agent_id and c.phase in (CONNECTED, DIALING) for c in self._calls.values())

    # ------------------------------------------------------------ agents and calls

    def _request(self, event: AgentRequest, now: datetime, out: list[AcdCommand]) -> None:
        agents = self._agents
        if event.agent_id not in agents.status:
            raise UnknownAgent(event.agent_id)
        old = agents.status[event.agent_id]
        new = request_state(old, event.state, event.reason, now)  # raises before anything changes
        agents.unblock(event.agent_id)
        if old.state == AgentState.RESERVED:
            self._offers.withdraw_agent(event.agent_id, out)
        agents.set(
            event.agent_id, now, out, state=new.state, reason=new.reason, current_call=new.current_call
        )
        if event.agent_id in agents.status:
            agents.refresh(event.agent_id)

    def _view(self, call: QueuedCall, now: datetime) -> WaitingCall:
        return waiting_view(call, self._config.queues, self._offers.agents_ringing(call), now)

    def _drop(self, call: QueuedCall) -> None:
        self._calls.pop(call.call_id, None)

    def _wrap_up(self, call: QueuedCall, now: datetime, out: list[AcdCommand]) -> None:
        if call.agent is not None:
            self._agents.wrap_up(call.agent, call.call_id, call.wrapup_s, now, out)

    def _queued(self, event: CallQueued, now: datetime, out: list[AcdCommand]) -> None:
        if event.call_id in self._calls:
            return
        q = self._config.queues.get(event.queue)
        if q is None:
            out.append(QueueLeft(event.call_id, "unknown_queue"))
            return
        if event.kind == "call" and not self._agents.has_agents(q):
            out.append(QueueLeft(event.call_id, "no_agents"))
            return
        call = new_call(event)
        announce_from(call, q, now)
        self._calls[call.call_id] = call

    def _gone(self, call_id: str, now: datetime, out: list[AcdCommand]) -> None:
        call = self._calls.get(call_id)
        if call is None:
            self._agents.release_orphan(call_id, now, out)
            return
        self._offers.cancel_all(call, "caller gone", "cancelled", now, out)
        self._drop(call)
        if call.phase == CONNECTED:
            self._wrap_up(call, now, out)
        elif call.agent is not None:  # callback withdrawn while dialing
            self._agents.release(call.agent, now, out)

    def _ended(self, call_id: str, now: datetime, out: list[AcdCommand]) -> None:
        call = self._calls.get(call_id)
        if call is None or call.phase not in (CONNECTED, DIALING):
            self._gone(call_id, now, out)
            return
        self._drop(call)
        self._wrap_up(call, now, out)

    def _connect_failed(self, event: ConnectFailed, now: datetime, out: list[AcdCommand]) -> None:
        """The answered agent never got the caller: the call waits again at its place in line (arrival
        time kept), offered to this agent again only after the ring timeout; the agent is available
        at once, the call not counted as handled. A caller already gone was settled by ``CallGone``."""
        call = self._calls.get(event.call_id)
        if call is None or call.phase != CONNECTED or call.agent != event.agent_id:
            return
        status = self._agents.status.get(event.agent_id)
        if status is not None and status.state == AgentState.ON_CALL and status.current_call == call.call_id:
            self._agents.set(
                event.agent_id,
                now,
                out,
                state=AgentState.AVAILABLE,
                reason=None,
                current_call=None,
                calls_handled=max(0, status.calls_handled - 1),
            )
        call.agent = None
        call.phase = WAITING
        q = self._config.queues.get(call.queue)
        if q is None:  # its queue was removed while it was being connected
            self._drop(call)
            out.append(QueueLeft(call.call_id, "unknown_queue"))
            return
        call.excluded[event.agent_id] = now + timedelta(seconds=q.ring_timeout_s)
        announce_from(call, q, now)

    def _requeue(self, event: Requeue, now: datetime, out: list[AcdCommand]) -> None:
        call = self._calls.get(event.call_id)
        if call is None:
            raise UnknownCall(event.call_id)
        q = self._config.queues.get(event.queue)
        if q is None:
            raise UnknownQueue(event.queue)
        self._offers.cancel_all(call, "requeued", "cancelled", now, out)
        self._wrap_up(call, now, out)
        call.agent = None
        call.queue = event.queue
        call.phase = WAITING
        call.excluded.clear()
        call.wait_from = event.at
        announce_from(call, q, now)
        if call.kind == "call" and not self._agents.has_agents(q):
            self._drop(call)
            out.append(QueueLeft(call.call_id, "no_agents"))

    # ------------------------------------------------------------ time and routing

    def _tick(self, now: datetime, out: list[AcdCommand]) -> None:
        self._offers.expire(now, out)
        self._agents.end_wrap_ups(now, out)
        self._agents.unblock_due(now)
        for call in list(self._calls.values()):
            q = self._config.queues.get(call.queue)
            if q is None or call.phase not in IN_LINE:
                continue
            clear_due_holds(call, now)
            if max_wait_reached(call, q, now):
                self._offers.cancel_all(call, "max wait", "cancelled", now, out)
                self._drop(call)
                out.append(QueueLeft(call.call_id, "timeout"))
        announce_due(
            self._calls.values(),
            self._config.queues,
            self.waiting,
            self._aht,
            self._agents.staffed,
            now,
            out,
        )

    def _route(self, now: datetime, out: list[AcdCommand]) -> None:
        if self._held_until is not None:
            if now < self._held_until:
                return
            self._held_until = None
        if not self._agents.free:
            return
        waiting = [
            self._view(c, now)
            for c in self._calls.values()
            if c.phase == WAITING and (c.not_before is None or c.not_before <= now)
        ]
        if not waiting:
            return
        result = route_result(self._agents.views, waiting, self._config.queues, now, self._rr)
        self._rr = result.rr_pointers
        for match in result.matches:
            call = self._calls[match.call_id]
            self._offers.ring(call, match.agent_ids, self._config.queues[call.queue], now, out)
