"""The ACD's ARI side: executes the distributor's commands and reports what the agent legs do.

It decides nothing. ``RingAgent`` → reserve the agent (``AgentReservations``), originate its phone into
the Stasis app as a leg; the leg's ``Ringing`` / entering the app (answered) / destruction come back as
``OfferRinging`` / ``OfferAnswered`` / ``OfferFailed`` or ``ConversationEnded``, with Asterisk's event
timestamps (ms resolution), so ring-to-answer is measured where the phone rang. ``Connect`` bridges the
caller with the agent; ``QueueLeft`` / ``QueueStatus`` reach the caller's flow as flow events.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from acd import conversation_marker
from acd.caller_directory import Caller, CallerDirectory
from acd.events import (
    AcdCommand,
    AcdEvent,
    CancelOffer,
    Connect,
    ConnectFailed,
    ConversationEnded,
    CustomerAnswered,
    CustomerFailed,
    DialCustomer,
    OfferAnswered,
    OfferFailed,
    OfferRinging,
    QueueLeft,
    QueueStatus,
    RingAgent,
)
from acd.reservation import AgentReservations
from acd.shared_line import Claim
from ivr.ari.causes import Q850
from ivr.ari.errors import AriError
from ivr.ari.events import AriEvent, ChannelDestroyed, StasisStart, channel_id_of
from ivr.calls.legs import LEG_ARG_PREFIX, LEG_ID_PREFIX, LegRegistry, is_ringing
from ivr.calls.ports import AriPort
from ivr.flows import events as fe

log = logging.getLogger(__name__)

ORIGINATE_GRACE_S = 10
"""Asterisk's own ring timeout is the queue's plus this: the distributor's RONA always comes first."""


@dataclass
class Leg:
    """One channel the ACD created: an offer's agent leg, or a callback's customer leg."""

    channel_id: str
    call_id: str
    offer_id: str
    agent_id: str
    kind: str  # "agent" | "customer"
    cancelled: bool = False
    rang: bool = False
    answered: bool = False
    connected: bool = False


@dataclass
class _Conversation:
    bridge_id: str
    legs: list[str] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


def cause_of(event: ChannelDestroyed) -> str:
    text = Q850.get(event.cause or 0) or event.cause_txt or "unknown"
    return f"{event.cause} {text}" if event.cause is not None else text


class Dispatcher:
    def __init__(
        self,
        *,
        ari: AriPort,
        legs: LegRegistry,
        reservations: AgentReservations,
        callers: CallerDirectory,
        report: Callable[[AcdEvent], None],
        leg_owner: Callable[[AriEvent], None],
        outbound_dial: str,
        agent_dial: str = "PJSIP/{agent}",
        claim_of: Callable[[str, str], Claim | None] = lambda _call_id, _agent_id: None,
    ) -> None:
        self._claim_of = claim_of
        """(call id, agent) -> the claim ``try_reserve`` gets (FIFO across nodes: ``acd.shared_line``)."""
        self._ari = ari
        self._legs = legs
        self._reservations = reservations
        self._callers = callers
        self._report = report
        self._leg_owner = leg_owner
        self._outbound_dial = outbound_dial
        self._agent_dial = agent_dial
        """An operator's phone as Asterisk dials it; ``{agent}`` is the operator id (through a SIP proxy in
        a cluster: ``PJSIP/kamailio/sip:{agent}@HOST:PORT``)."""
        self.by_channel: dict[str, Leg] = {}
        self.by_offer: dict[str, Leg] = {}
        self.conversations: dict[str, _Conversation] = {}  # call id -> its bridge
        self.ended_while_away: set[str] = set()
        """Calls whose operator hung up while no controller ran (their bridge was found without one)."""
        self.talked_with: dict[str, str] = {}
        """Of those, the operator the stored agent states name (their answer's write may have been lost)."""
        self.talked_wait: dict[str, str] = {}
        """Of those, the wait a conversation mark on the caller's channel says the conversation ended."""
        self.restored: dict[str, tuple[str, str]] = {}
        """call id -> (agent, offer id): conversations taken over after a controller restart."""

    # --- commands ----------------------------------------------------------------------------

    async def execute(self, command: AcdCommand) -> None:
        match command:
            case RingAgent():
                await self._ring(command)
            case CancelOffer(offer_id=offer_id):
                await self._cancel(offer_id)
            case Connect():
                await self._connect(command)
            case DialCustomer():
                await self._dial_customer(command)
            case QueueLeft(call_id=call_id, outcome=outcome):
                caller = self._callers.pop(call_id)
                if caller is not None:
                    caller.post(fe.QueueDone(caller.queue, outcome))
            case QueueStatus(call_id=call_id, position=position, expected_wait_s=ewt):
                caller = self._callers.get(call_id)
                if caller is not None:
                    caller.post(fe.QueueStatus(caller.queue, position, ewt))
            case _:
                pass  # records (AgentChanged, OfferEnded, callbacks) are the service's

    async def _ring(self, cmd: RingAgent) -> None:
        now = _now()
        claim = self._claim_of(cmd.call_id, cmd.agent_id)
        if not await self._reservations.try_reserve(cmd.agent_id, cmd.offer_id, claim):
            self._report(OfferFailed(cmd.offer_id, "reserved elsewhere", now))
            return
        channel_id = f"{LEG_ID_PREFIX}{cmd.offer_id}"
        leg = Leg(channel_id, cmd.call_id, cmd.offer_id, cmd.agent_id, "agent")
        self.by_channel[channel_id] = leg
        self.by_offer[cmd.offer_id] = leg
        self._legs.claim(channel_id, self._leg_owner)
        caller = self._callers.get(cmd.call_id)
        log.debug("offer %s: ringing agent %s on leg %s", cmd.offer_id, cmd.agent_id, channel_id)
        try:
            await self._ari.channels.originate(
                self._agent_dial.format(agent=cmd.agent_id),
                app=self._ari.app,
                app_args=f"{LEG_ARG_PREFIX}agent:{cmd.call_id}",
                channel_id=channel_id,
                caller_id=caller.caller_id() if caller is not None else None,
                timeout=int(cmd.timeout_s) + ORIGINATE_GRACE_S,
            )
        except AriError as exc:
            log.info("offer %s: agent %s phone could not ring: %s", cmd.offer_id, cmd.agent_id, exc)
            self._forget(leg)
            await self._reservations.release(cmd.agent_id, cmd.offer_id)
            self._report(OfferFailed(cmd.offer_id, f"unreachable: {exc}", _now()))

    async def _cancel(self, offer_id: str) -> None:
        leg = self.by_offer.get(offer_id)
        if leg is None:
            return
        leg.cancelled = True
        with contextlib.suppress(AriError):
            await self._ari.channels.hangup(leg.channel_id)
        await self._reservations.release(leg.agent_id, offer_id)

    async def _connect(self, cmd: Connect) -> None:
        leg = self.by_offer.get(cmd.offer_id)
        caller = self._callers.get(cmd.call_id)
        if caller is None:  # the caller left meanwhile: its ``CallGone`` settles the agent
            if leg is not None:
                leg.cancelled = True
                with contextlib.suppress(AriError):
                    await self._ari.channels.hangup(leg.channel_id)
            return
        if leg is None:  # the operator hung up right after answering (its leg's end came first)
            log.info("call %s: agent %s hung up before the bridge", cmd.call_id, cmd.agent_id)
            self._report(ConnectFailed(cmd.call_id, cmd.agent_id, "agent hung up", _now()))
            return
        leg.connected = True
        bridge_id = f"{LEG_ID_PREFIX}{cmd.call_id}-bridge"
        self.conversations[cmd.call_id] = _Conversation(bridge_id, [leg.channel_id])
        caller.agent = cmd.agent_id
        try:
            with contextlib.suppress(AriError):
                await self._ari.channels.stop_moh(caller.channel_id)
            await self._ari.bridges.create(bridge_type="mixing", bridge_id=bridge_id)
            await self._ari.bridges.add_channel(bridge_id, [caller.channel_id, leg.channel_id])
        except AriError as exc:
            log.warning("call %s: could not bridge agent %s: %s", cmd.call_id, cmd.agent_id, exc)
            await self._unbridge(caller, leg)
            self._report(ConnectFailed(cmd.call_id, cmd.agent_id, "bridge failed", _now()))
            return
        await self._mark(
            caller, conversation_marker.mark(cmd.call_id, cmd.agent_id, caller.request.entered_at)
        )
        caller.post(fe.AgentConnected(caller.queue, cmd.agent_id))

    async def _mark(self, caller: Caller, value: str) -> None:
        """Put through (or, empty, waiting again): the mark on the caller's channel that outlives a
        killed controller and its lost writes (``conversation_marker``)."""
        with contextlib.suppress(AriError):
            await self._ari.channels.set_var(caller.channel_id, conversation_marker.VAR, value)

    async def _unbridge(self, caller: Caller, leg: Leg) -> None:
        """A bridge that failed (one of its channels is gone): hang the agent's leg up without ending a
        conversation and put the caller back on hold; if the caller is the one gone, its own end follows."""
        leg.connected = False
        leg.cancelled = True
        caller.agent = None
        await self._close_bridge(caller.request.call_id)
        with contextlib.suppress(AriError):
            await self._ari.channels.start_moh(caller.channel_id)

    async def _dial_customer(self, cmd: DialCustomer) -> None:
        agent_leg = self.by_offer.get(cmd.offer_id)
        if agent_leg is None or not cmd.number:
            self._report(CustomerFailed(cmd.call_id, "no number", _now()))
            return
        channel_id = f"{LEG_ID_PREFIX}{cmd.offer_id}-customer"
        leg = Leg(channel_id, cmd.call_id, cmd.offer_id, cmd.agent_id, "customer")
        self.by_channel[channel_id] = leg
        self._legs.claim(channel_id, self._leg_owner)
        bridge_id = f"{LEG_ID_PREFIX}{cmd.call_id}-bridge"
        self.conversations[cmd.call_id] = _Conversation(bridge_id, [agent_leg.channel_id, channel_id])
        try:
            await self._ari.bridges.create(bridge_type="mixing", bridge_id=bridge_id)
            await self._ari.bridges.add_channel(bridge_id, [agent_leg.channel_id])
            await self._ari.channels.start_moh(agent_leg.channel_id)
            await self._ari.channels.originate(
                self._outbound_dial.format(number=cmd.number),
                app=self._ari.app,
                app_args=f"{LEG_ARG_PREFIX}customer:{cmd.call_id}",
                channel_id=channel_id,
                timeout=45,
            )
        except AriError as exc:
            log.info("callback %s: customer %s could not be dialled: %s", cmd.call_id, cmd.number, exc)
            self._forget(leg)
            await self._free_callback_agent(leg)
            self._report(CustomerFailed(cmd.call_id, f"unreachable: {exc}", _now()))

    # --- leg events (in the ACD's order) -----------------------------------------------------

    async def on_leg_event(self, event: AriEvent) -> None:
        cid = channel_id_of(event)
        leg = self.by_channel.get(cid) if cid else None
        if leg is None:
            return
        at = event.timestamp or _now()
        log.debug("leg %s (%s %s): %s", leg.channel_id, leg.kind, leg.agent_id, event.type)
        if is_ringing(event):
            if leg.kind == "agent" and not leg.answered and not leg.rang:
                leg.rang = True
                self._report(OfferRinging(leg.offer_id, at))
        elif isinstance(event, StasisStart):
            leg.answered = True
            if leg.kind == "agent":
                self._report(OfferAnswered(leg.offer_id, at))
            else:
                await self._customer_answered(leg, at)
        elif isinstance(event, ChannelDestroyed):
            await self._leg_gone(leg, event, at)

    async def _customer_answered(self, leg: Leg, at: datetime) -> None:
        conversation = self.conversations.get(leg.call_id)
        agent = self.by_offer.get(leg.offer_id)
        leg.connected = True
        if agent is not None:
            agent.connected = True
            with contextlib.suppress(AriError):
                await self._ari.channels.stop_moh(agent.channel_id)
        if conversation is not None:
            with contextlib.suppress(AriError):
                await self._ari.bridges.add_channel(conversation.bridge_id, [leg.channel_id])
        self._report(CustomerAnswered(leg.call_id, at))

    async def _leg_gone(self, leg: Leg, event: ChannelDestroyed, at: datetime) -> None:
        self._forget(leg)
        if leg.kind == "agent":
            await self._reservations.release(leg.agent_id, leg.offer_id)
        if leg.connected:
            await self._end_conversation(leg.call_id)
            self._report(ConversationEnded(leg.call_id, at))
        elif leg.kind == "customer":
            await self._free_callback_agent(leg)
            self._report(CustomerFailed(leg.call_id, cause_of(event), at))
        elif leg.answered and f"{leg.channel_id}-customer" in self.by_channel:
            # The operator hung up while the customer was being dialled: stop dialling; the customer
            # leg's end reports the attempt as failed and the callback is retried.
            with contextlib.suppress(AriError):
                await self._ari.channels.hangup(f"{leg.channel_id}-customer")
        elif not leg.cancelled and not leg.answered:
            self._report(OfferFailed(leg.offer_id, cause_of(event), at))

    async def _free_callback_agent(self, customer: Leg) -> None:
        """The customer cannot be reached: the agent, holding in the bridge, is hung up and free at once
        (the distributor makes them available with ``CustomerFailed``)."""
        await self._close_bridge(customer.call_id)
        await self._reservations.release(customer.agent_id, customer.offer_id)

    async def _end_conversation(self, call_id: str) -> None:
        """The conversation is over: hang up what is left of it and give the caller back to the flow."""
        if not await self._close_bridge(call_id):
            return
        caller = self._callers.pop(call_id)
        if caller is not None:
            caller.post(fe.QueueDone(caller.queue, "answered", agent=caller.agent))

    async def _close_bridge(self, call_id: str) -> bool:
        """Take the caller out, hang up the call's legs still up and destroy its bridge; False if it had
        none.

        The caller leaves by ``removeChannel`` first, never by the bridge's destruction alone: Asterisk
        answers ``removeChannel`` only once the caller's Stasis control has left the bridge, whereas after
        ``DELETE /bridges`` the control still names the dying bridge for a moment, and a prompt the
        caller's flow plays then (the survey after the operator hung up) is silently dropped: no
        PlaybackStarted, no PlaybackFinished, and the flow waits for it forever."""
        conversation = self.conversations.pop(call_id, None)
        if conversation is None:
            return False
        caller = self._callers.get(call_id)
        if caller is not None:
            with contextlib.suppress(AriError):  # not in it (never joined, or gone): nothing to do
                await self._ari.bridges.remove_channel(conversation.bridge_id, [caller.channel_id])
        for channel_id in conversation.legs:
            if channel_id in self.by_channel:
                with contextlib.suppress(AriError):
                    await self._ari.channels.hangup(channel_id)
        with contextlib.suppress(AriError):
            await self._ari.bridges.destroy(conversation.bridge_id)
        return True

    async def requeued(self, call_id: str, queue: str) -> None:
        """Escalation: the operator's leg is hung up (not a conversation end) and the caller waits again
        in ``queue`` with hold music; the distributor already put the call back in line."""
        await self.release_operator(call_id)
        caller = self._callers.get(call_id)
        if caller is not None:
            caller.queue = queue
            caller.agent = None
            await self._mark(caller, "")
            caller.post(fe.BackInQueue(queue))

    async def release_operator(self, call_id: str) -> None:
        """Hang the operator's leg up without ending the caller's conversation (escalation): no
        ``ConversationEnded`` follows; the distributor already moved the operator to wrap-up."""
        conversation = self.conversations.get(call_id)
        if conversation is None:
            return
        for channel_id in conversation.legs:
            leg = self.by_channel.get(channel_id)
            if leg is not None:
                leg.connected = False
                leg.cancelled = True
        await self._close_bridge(call_id)

    def restore_conversation(self, *, call_id: str, offer_id: str, agent_id: str, leg_id: str) -> None:
        """After a controller restart: an operator still bridged with a caller (both in the app)."""
        leg = Leg(leg_id, call_id, offer_id, agent_id, "agent", rang=True, answered=True, connected=True)
        self.by_channel[leg_id] = leg
        self.by_offer[offer_id] = leg
        self._legs.claim(leg_id, self._leg_owner)
        self.conversations[call_id] = _Conversation(f"{LEG_ID_PREFIX}{call_id}-bridge", [leg_id])
        self.restored[call_id] = (agent_id, offer_id)

    async def caller_left(self, call_id: str) -> None:
        """The caller hung up: a conversation in progress ends (the agent's leg is hung up)."""
        self._callers.pop(call_id)
        await self._end_conversation(call_id)

    def _forget(self, leg: Leg) -> None:
        self.by_channel.pop(leg.channel_id, None)
        if leg.kind == "agent":
            self.by_offer.pop(leg.offer_id, None)
        self._legs.release(leg.channel_id)
