"""FIFO within priority across nodes: the calls waiting on every node, and which of them an agent owes.

Each node's distributor orders only its own callers. In a cluster each node shares its callers in line
(``shared_calls``: what its distributor holds, as the router sees them) and an agent is reserved for
call C only if no *other* node has a call that is **ahead of C** and that **this agent could take**
(``Claim.blocked_by``; checked where the agent is reserved, in the same transaction, by
``PostgresReservations.try_reserve``). A refused reservation fails like "reserved elsewhere": C keeps
its place; the node holding the older call sees the agent available (shared agent states) and offers it.

- **Ahead** is the router's own order (``router.call_order``): higher priority first (the call's
  priority plus its queue's), then the earlier arrival (``entered_at``: the caller's first entry into
  the queue, kept across RONA, escalation and controller restarts), then the call id. Arrivals are the
  nodes' clocks: nodes must keep time (NTP).
- **Could take** is the router's eligibility for that call, in any queue: the agent has the queue's
  skill at no less than the call's current minimum (the queue's, relaxed by the rules its wait has
  reached: ``router.current_rules``), speaks the caller's language (unless the call has none or a
  ``language: any`` rule applies), and the call's node does not exclude the agent now (it declined it).
  Every node reads the same queues file, so the checking node judges another node's call with the
  same rules that node would apply. A call the other node would not offer this agent never blocks it:
  the rule may only delay an agent for a call that will get it.
- Calls are shared while in line and routable: waiting or being offered, and not held back (a
  callback's retry delay). A call being offered (an offer of it holds an agent) does not block: the
  transport leaves it out (a reservation whose holder is one of its offers, ``<call id>-o<n>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from acd.model import AgentConfig, QueueConfig
from acd.router import WaitingCall, call_order, current_rules


@dataclass(frozen=True)
class SharedCall:
    """A call in line on some node, as the nodes share it (one row of ``acd_waiting_calls``)."""

    call_id: str
    node: str
    queue: str
    priority: int
    """The router's priority: the call's plus its queue's."""
    entered_at: datetime
    lang: str | None = None
    kind: str = "call"
    excluded: frozenset[str] = frozenset()
    """Agents its node will not offer it now (they just declined or missed it)."""

    def order(self) -> tuple[int, datetime, str]:
        return (-self.priority, self.entered_at, self.call_id)


def shared_call(call: WaitingCall, node: str) -> SharedCall:
    return SharedCall(
        call.call_id, node, call.queue, call.priority, call.entered_at, call.lang, call.kind, call.exclude
    )


def shared_calls(in_line: Iterable[WaitingCall], node: str) -> dict[str, SharedCall]:
    """This node's part of the shared line (call id -> call), from its distributor's calls in line."""
    return {c.call_id: shared_call(c, node) for c in in_line}


def could_take(
    agent: AgentConfig, call: SharedCall, queues: Mapping[str, QueueConfig], now: datetime
) -> bool:
    """Would the call's node's router give ``call`` to ``agent`` (free) at ``now``?"""
    queue = queues.get(call.queue)
    if queue is None or agent.id in call.excluded:
        return False
    proficiency = agent.skills.get(queue.skill)
    level, any_language = current_rules(queue, (now - call.entered_at).total_seconds())
    if proficiency is None or proficiency < level:
        return False
    return call.lang is None or any_language or call.lang in agent.languages


@dataclass(frozen=True)
class Claim:
    """An agent about to be reserved for ``call`` (this node's), with what judging others' calls needs."""

    call: WaitingCall
    agent: AgentConfig
    queues: Mapping[str, QueueConfig]

    def queue_names(self) -> list[str]:
        """The queues whose calls this agent might take (has their skill): the only ones worth reading."""
        return sorted(name for name, q in self.queues.items() if q.skill in self.agent.skills)

    def is_ahead(self, other: SharedCall) -> bool:
        return other.order() < call_order(self.call)

    def blocked_by(self, others: Iterable[SharedCall], node: str, now: datetime) -> SharedCall | None:
        """The first call of another node ahead of this one that the agent could take, or None."""
        ahead = sorted((c for c in others if c.node != node and self.is_ahead(c)), key=SharedCall.order)
        return next((c for c in ahead if could_take(self.agent, c, self.queues, now)), None)


def claim_for(
    call: WaitingCall | None, agent_id: str, agents: Iterable[AgentConfig], queues: Mapping[str, QueueConfig]
) -> Claim | None:
    """The claim for reserving ``agent_id`` for ``call``; None when either is unknown (no FIFO check)."""
    if call is None:
        return None
    agent = next((a for a in agents if a.id == agent_id), None)
    return None if agent is None else Claim(call, agent, queues)
