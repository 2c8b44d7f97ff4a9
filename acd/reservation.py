"""The one way an agent is reserved for an offer: at most one holder per agent.

This is a port: one node uses ``InMemoryReservations``; a cluster implements the same protocol on
PostgreSQL (row lock / ``SKIP LOCKED``), hence ``async``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from acd.shared_line import Claim


class AgentReservations(Protocol):
    async def try_reserve(self, agent_id: str, holder: str, claim: Claim | None = None) -> bool:
        """Reserve ``agent_id`` for ``holder`` (an offer id). True if now held by ``holder``.

        ``claim``: the call it is for; a cluster then also refuses when another node has a call ahead
        of it that this agent could take (``acd.shared_line``). One node ignores it (its distributor's
        own order is the whole line)."""
        ...

    async def release(self, agent_id: str, holder: str) -> None:
        """Free the agent if ``holder`` holds it; otherwise do nothing."""
        ...

    async def holder(self, agent_id: str) -> str | None:
        """Who holds the agent now, or None."""
        ...


class InMemoryReservations:
    """One node's reservations. No awaits inside, so each call is atomic on the event loop."""

    def __init__(self) -> None:
        self._held: dict[str, str] = {}

    async def try_reserve(self, agent_id: str, holder: str, claim: Claim | None = None) -> bool:
        current = self._held.setdefault(agent_id, holder)
        return current == holder

    async def release(self, agent_id: str, holder: str) -> None:
        if self._held.get(agent_id) == holder:
            del self._held[agent_id]

    async def holder(self, agent_id: str) -> str | None:
        return self._held.get(agent_id)
