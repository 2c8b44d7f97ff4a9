"""The distributor's offers: agents being rung for calls — started by routing, then answered, failed,
timed out (RONA) or cancelled. Exactly one offer of a call is ever answered."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from acd.agent_book import AgentBook
from acd.agents import AgentState
from acd.events import (
    AcdCommand,
    CancelOffer,
    Connect,
    DialCustomer,
    OfferEnded,
    OfferFailed,
    RecordConversation,
    RingAgent,
)
from acd.model import QueueConfig
from acd.queued_calls import CONNECTED, DIALING, OFFERING, QueuedCall, back_to_waiting

RESERVED_ELSEWHERE = "reserved elsewhere"
"""The ``OfferFailed`` cause when the agent could not be reserved (another node holds it)."""


@dataclass
class Offer:
    offer_id: str
    call_id: str
    agent_id: str
    started_at: datetime
    timeout_s: float
    ring_all: bool
    ringing_at: datetime | None = None


class Offers:
    """The live offers, over the distributor's calls and agents (shared, not copied)."""

    def __init__(self, calls: dict[str, QueuedCall], agents: AgentBook, first_number: int = 0) -> None:
        self.live: dict[str, Offer] = {}
        self._calls = calls
        self._agents = agents
        self._first_number = first_number

    def agents_ringing(self, call: QueuedCall) -> frozenset[str]:
        return frozenset(self.live[o].agent_id for o in call.offers)

    def deadlines(self) -> list[datetime]:
        """When each live offer times out."""
        return [o.started_at + timedelta(seconds=o.timeout_s) for o in self.live.values()]

    def ring(
        self, call: QueuedCall, agent_ids: Iterable[str], q: QueueConfig, now: datetime, out: list[AcdCommand]
    ) -> None:
        """Offer the call to these agents (reserved until the offer ends)."""
        call.phase = OFFERING
        for agent_id in agent_ids:
            call.offer_seq += 1
            offer = Offer(
                f"{call.call_id}-o{self._first_number + call.offer_seq}",
                call.call_id,
                agent_id,
                now,
                q.ring_timeout_s,
                ring_all=q.strategy == "ring-all",
            )
            self.live[offer.offer_id] = offer
            call.offers.add(offer.offer_id)
            self._agents.set(
                agent_id, now, out, state=AgentState.RESERVED, reason=None, current_call=call.call_id
            )
            out.append(RingAgent(offer.offer_id, call.call_id, agent_id, q.ring_timeout_s, call.kind))

    def ringing(self, offer_id: str, at: datetime) -> None:
        if (offer := self.live.get(offer_id)) is not None:
            offer.ringing_at = at

    def end(self, offer: Offer, cancel: str | None, outcome: str, out: list[AcdCommand]) -> None:
        """Forget the offer; ``cancel`` (a reason) also hangs up its leg. Its agent is left as it is."""
        self.live.pop(offer.offer_id, None)
        call = self._calls.get(offer.call_id)
        if call is not None:
            call.offers.discard(offer.offer_id)
        if cancel is not None:
            out.append(CancelOffer(offer.offer_id, cancel, offer.call_id, offer.agent_id))
        out.append(OfferEnded(offer.offer_id, offer.call_id, offer.agent_id, outcome))

    def cancel_all(
        self, call: QueuedCall, reason: str, outcome: str, now: datetime, out: list[AcdCommand]
    ) -> None:
        """Cancel every offer of the call; its agents are available again (never paused)."""
        for offer_id in sorted(call.offers):
            offer = self.live[offer_id]
            self.end(offer, reason, outcome, out)
            self._agents.free_reserved(offer.agent_id, now, out)

    def withdraw_agent(self, agent_id: str, out: list[AcdCommand]) -> None:
        """The agent asked for another state while reserved: its offers end, their calls wait again."""
        for offer in [o for o in self.live.values() if o.agent_id == agent_id]:
            self.end(offer, "agent logged out", "cancelled", out)
            back_to_waiting(self._calls[offer.call_id])

    def answered(
        self, offer_id: str, queues: Mapping[str, QueueConfig], now: datetime, out: list[AcdCommand]
    ) -> None:
        """The first answer wins: connect (callback: dial the customer); the other offers are lost."""
        offer = self.live.get(offer_id)
        if offer is None:  # already cancelled / lost: make sure that leg is hung up
            out.append(CancelOffer(offer_id, "offer no longer valid"))
            return
        call = self._calls[offer.call_id]
        self.end(offer, None, "answered", out)
        self.cancel_all(call, "answered elsewhere", "lost", now, out)
        q = queues.get(call.queue)
        call.wrapup_s = q.wrapup_s if q else 0.0
        call.agent = offer.agent_id
        handled = self._agents.status[offer.agent_id].calls_handled + 1
        self._agents.set(
            offer.agent_id,
            now,
            out,
            state=AgentState.ON_CALL,
            reason=None,
            current_call=call.call_id,
            calls_handled=handled,
        )
        if call.kind == "callback":
            call.phase = DIALING
            call.attempts += 1
            out.append(DialCustomer(offer_id, call.call_id, offer.agent_id, call.number))
        else:
            call.phase = CONNECTED
            out.append(Connect(offer_id, call.call_id, offer.agent_id))
            if q is not None and q.record:
                out.append(RecordConversation(call.call_id, call.queue, offer.agent_id))

    def failed(
        self,
        event: OfferFailed,
        queues: Mapping[str, QueueConfig],
        reserved_elsewhere_retry_s: float,
        now: datetime,
        out: list[AcdCommand],
    ) -> None:
        """Reserved elsewhere: agent blocked a while; unreachable: paused; otherwise the agent is
        excluded from this call for its ring timeout. The call waits again."""
        offer = self.live.get(event.offer_id)
        if offer is None:
            return
        call = self._calls[offer.call_id]
        self.end(offer, None, f"failed:{event.cause}", out)
        agents, agent_id = self._agents, offer.agent_id
        reserved = agent_id in agents.status and agents.status[agent_id].state == AgentState.RESERVED
        if event.cause == RESERVED_ELSEWHERE:
            agents.block(agent_id, now + timedelta(seconds=reserved_elsewhere_retry_s))
            agents.free_reserved(agent_id, now, out)
            if agent_id in agents.status:
                agents.refresh(agent_id)
        elif event.cause == "unreachable" and reserved:
            agents.set(agent_id, now, out, state=AgentState.PAUSED, reason="unreachable", current_call=None)
        else:
            q = queues.get(call.queue)
            call.excluded[agent_id] = now + timedelta(seconds=q.ring_timeout_s if q else 0.0)
            agents.free_reserved(agent_id, now, out)
        back_to_waiting(call)

    def expire(self, now: datetime, out: list[AcdCommand]) -> None:
        """RONA: an unanswered offer ends; its agent is paused "no answer" (ring-all: just freed)."""
        for offer in sorted(self.live.values(), key=lambda o: o.offer_id):
            if offer.started_at + timedelta(seconds=offer.timeout_s) > now:
                continue
            self.end(offer, "no answer", "no_answer", out)
            agent = self._agents.status.get(offer.agent_id)
            if offer.ring_all:
                self._agents.free_reserved(offer.agent_id, now, out)
            elif agent is not None and agent.state == AgentState.RESERVED:
                self._agents.set(
                    offer.agent_id, now, out, state=AgentState.PAUSED, reason="no answer", current_call=None
                )
            back_to_waiting(self._calls[offer.call_id])
