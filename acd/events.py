"""What the distributor is told (events) and what it asks the I/O layer to do (commands)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from acd.agents import AgentStatus

# ---------------------------------------------------------------- events (I/O layer -> distributor)


@dataclass(frozen=True)
class CallQueued:
    call_id: str
    queue: str
    priority: int
    """Added to the queue's priority (higher first)."""
    lang: str | None
    entered_at: datetime
    """The caller's arrival in the queue: FIFO order, relaxation and max wait count from it."""
    kind: str = "call"
    """"call" or "callback" (then ``number`` is the customer's number)."""
    number: str | None = None


@dataclass(frozen=True)
class CallGone:
    """The caller hung up or left the queue (flow moved on); a callback request was withdrawn."""

    call_id: str


@dataclass(frozen=True)
class AgentRequest:
    """A person asks for ``state`` (available | paused | logged_out)."""

    agent_id: str
    state: str
    reason: str | None = None


@dataclass(frozen=True)
class AgentRegistered:
    agent_id: str
    online: bool


@dataclass(frozen=True)
class OfferRinging:
    offer_id: str
    at: datetime


@dataclass(frozen=True)
class OfferAnswered:
    offer_id: str
    at: datetime


@dataclass(frozen=True)
class OfferFailed:
    """The agent leg never got answered: busy, unreachable, rejected, "reserved elsewhere", …"""

    offer_id: str
    cause: str
    at: datetime


@dataclass(frozen=True)
class ConversationEnded:
    call_id: str
    at: datetime


@dataclass(frozen=True)
class ConnectFailed:
    """An answered agent could not be bridged with the caller (the agent's leg was already gone, or the
    bridge failed): the caller waits again at its place in line and the agent is free again."""

    call_id: str
    agent_id: str
    cause: str
    at: datetime


@dataclass(frozen=True)
class Requeue:
    """Send a connected (or waiting) call to another queue, keeping its original arrival time."""

    call_id: str
    queue: str
    at: datetime


@dataclass(frozen=True)
class CustomerAnswered:
    """A callback's customer answered (the dispatcher has bridged them with the agent)."""

    call_id: str
    at: datetime


@dataclass(frozen=True)
class CustomerFailed:
    call_id: str
    cause: str
    at: datetime


@dataclass(frozen=True)
class Tick:
    """Sent at (or after) ``Distributor.next_deadline()``: RONA, max wait, wrap-up end, announcements."""


AcdEvent = (
    CallQueued
    | CallGone
    | AgentRequest
    | AgentRegistered
    | OfferRinging
    | OfferAnswered
    | OfferFailed
    | ConversationEnded
    | ConnectFailed
    | Requeue
    | CustomerAnswered
    | CustomerFailed
    | Tick
)

# ---------------------------------------------------------------- commands (distributor -> I/O layer)


@dataclass(frozen=True)
class RingAgent:
    """Reserve the agent (``AgentReservations.try_reserve(agent_id, offer_id)``), then ring its phone."""

    offer_id: str
    call_id: str
    agent_id: str
    timeout_s: float
    kind: str


@dataclass(frozen=True)
class CancelOffer:
    """Hang up this offer's agent leg (if any) and release its reservation."""

    offer_id: str
    reason: str
    call_id: str | None = None
    agent_id: str | None = None


@dataclass(frozen=True)
class Connect:
    """Bridge the caller with the agent who answered this offer (only ever one per call)."""

    offer_id: str
    call_id: str
    agent_id: str


@dataclass(frozen=True)
class RecordConversation:
    """The queue records its conversations: record the call's conversation bridge (after ``Connect``)."""

    call_id: str
    queue: str
    agent_id: str


@dataclass(frozen=True)
class DialCustomer:
    """A callback's agent answered: now dial the customer and bridge them with the agent."""

    offer_id: str
    call_id: str
    agent_id: str
    number: str | None


@dataclass(frozen=True)
class QueueLeft:
    """The call leaves the queue without an agent: timeout | no_agents | unknown_queue."""

    call_id: str
    outcome: str


@dataclass(frozen=True)
class QueueStatus:
    """Tell the caller their place (1-based) and expected wait (see ``expected_wait_s``)."""

    call_id: str
    position: int
    expected_wait_s: int


@dataclass(frozen=True)
class AgentChanged:
    status: AgentStatus


@dataclass(frozen=True)
class OfferEnded:
    """For the record: answered | no_answer | cancelled | lost | failed:<cause>."""

    offer_id: str
    call_id: str
    agent_id: str
    outcome: str


@dataclass(frozen=True)
class CallbackAttempt:
    call_id: str
    attempt: int
    outcome: str
    """answered | failed:<cause>"""


@dataclass(frozen=True)
class CallbackGaveUp:
    call_id: str
    attempts: int


AcdCommand = (
    RingAgent
    | CancelOffer
    | Connect
    | RecordConversation
    | DialCustomer
    | QueueLeft
    | QueueStatus
    | AgentChanged
    | OfferEnded
    | CallbackAttempt
    | CallbackGaveUp
)
