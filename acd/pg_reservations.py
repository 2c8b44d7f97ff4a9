"""``AgentReservations`` on PostgreSQL: an agent is held by at most one offer across every node.

**How.** One row per held agent in ``acd_agent_reservations`` (primary key ``agent_id``). Reserving is
one autocommitted statement, ``INSERT … ON CONFLICT (agent_id) DO UPDATE … WHERE <stale or already
ours> RETURNING holder``: PostgreSQL makes an upsert atomic (a concurrent reserver waits for the other's
row and re-checks the ``WHERE`` on its newest version), so of any number of racers exactly one gets a
row back. Releasing deletes the row only if it names this holder and this node.

**Why not row locks / ``SKIP LOCKED`` or advisory locks.** A lock lives as long as its transaction or
session: every offer would pin a pooled connection for its whole life (the ring, and the conversation —
the dispatcher releases when the operator's leg ends), and a PostgreSQL restart or a dropped connection
would silently free every agent while their phones still ring or talk. A row survives both, costs one
short statement, and its owner is visible (``holder``, ``node``) for ``release_node`` and for checks.

**A dead node.** Its rows would block its agents for ever, so: (1) a node frees its own holds when it
starts (``release_node(self.node, keep=…)``); (2) a hold is *stale* once its ``refreshed_at`` is
older than ``stale_after_s`` (``STALE_AFTER_S`` = 90 s) and is then free to take. A live node moves
``refreshed_at`` of all its holds every ``KEEP_ALIVE_S`` (15 s) with ``keep_alive()`` / the
``run_keep_alive()`` task. The limit is not "longer than the longest ring": a hold lasts the ring *and*
the conversation, and ``ring_timeout`` has no upper bound; it is "several keep-alives missed". So a node
that dies mid-offer or mid-call blocks its agents for at most ~90 s (or until it restarts). Times are
the database's clock (``now()``), never the nodes'. A PostgreSQL outage longer than ~75 s can leave a
live node's holds stale when it comes back; the agents' shared states (``on_call``) still keep other
nodes from offering them.

**FIFO across nodes.** ``try_reserve(agent, holder, claim)`` first reads the other nodes' calls in line
(``acd_waiting_calls``, ``acd.pg_waiting_calls``) ahead of the claimed call, in the same transaction as
the upsert, and refuses when the agent could take one of them (``acd.shared_line``) — so the node
holding the older caller gets the agent. The refusal is an ordinary False ("reserved elsewhere").

**Errors.** ``try_reserve`` answers False when the database cannot be reached (the distributor then
treats the agent as "reserved elsewhere" and retries later): never an offer without a hold. A
``release`` that fails is remembered and retried before the next reservation and at every keep-alive.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import and_, delete, func, not_, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from acd.pg_tables import NodeScoped, create_acd_tables, reservations
from acd.pg_waiting_calls import ahead_elsewhere
from acd.shared_line import Claim

log = logging.getLogger(__name__)

STALE_AFTER_S = 90.0
"""A hold not refreshed for this long belongs to a dead node and may be taken."""
KEEP_ALIVE_S = 15.0
"""How often a live node refreshes its holds (well under ``STALE_AFTER_S``)."""
OP_TIMEOUT_S = 5.0
"""Longest wait for one statement: a hung database must not stall the ACD's task."""

DB_ERRORS = (SQLAlchemyError, OSError, TimeoutError)


class PostgresReservations(NodeScoped):
    """This node's view of the cluster-wide reservations (``AgentReservations``)."""

    def __init__(
        self,
        engine: AsyncEngine,
        node: str,
        *,
        stale_after_s: float = STALE_AFTER_S,
        op_timeout_s: float = OP_TIMEOUT_S,
    ) -> None:
        super().__init__(engine, node, stale_after_s=stale_after_s, op_timeout_s=op_timeout_s)
        self._pending_releases: set[tuple[str, str]] = set()
        """(agent, holder) whose release failed: retried until the database takes it."""

    async def create_tables(self) -> None:
        await create_acd_tables(self.engine)

    # ------------------------------------------------------------------ AgentReservations

    async def try_reserve(self, agent_id: str, holder: str, claim: Claim | None = None) -> bool:
        """With a ``claim`` (the call it is for), also refused while another node has a call ahead of it
        that this agent could take (``acd.shared_line``): read and decided in the reservation's own
        transaction, just before the upsert."""
        t = reservations
        try:
            async with asyncio.timeout(self.op_timeout_s):
                await self._flush_pending()
                new = insert(t).values(agent_id=agent_id, holder=holder, node=self.node)
                mine = and_(t.c.holder == new.excluded.holder, t.c.node == new.excluded.node)
                stmt = new.on_conflict_do_update(
                    index_elements=[t.c.agent_id],
                    set_={
                        "holder": new.excluded.holder,
                        "node": new.excluded.node,
                        "reserved_at": func.now(),
                        "refreshed_at": func.now(),
                    },
                    where=or_(mine, t.c.refreshed_at < self._stale_before()),
                ).returning(t.c.holder)
                async with self.engine.begin() as conn:
                    if claim is not None and await self._owed_elsewhere(conn, agent_id, holder, claim):
                        return False
                    won = (await conn.execute(stmt)).first() is not None
        except DB_ERRORS as exc:
            log.warning("agent %s not reserved for %s: database unavailable: %s", agent_id, holder, exc)
            return False
        return won

    async def _owed_elsewhere(self, conn: AsyncConnection, agent_id: str, holder: str, claim: Claim) -> bool:
        others = await ahead_elsewhere(conn, claim, self.node, holds_stale_after_s=self.stale_after_s)
        blocker = claim.blocked_by(others, self.node, datetime.now(UTC))
        if blocker is None:
            return False
        log.info(
            "agent %s not reserved for %s: call %s on node %s waits longer",
            agent_id, holder, blocker.call_id, blocker.node,
        )  # fmt: skip
        return True

    async def release(self, agent_id: str, holder: str) -> None:
        self._pending_releases.add((agent_id, holder))
        try:
            async with asyncio.timeout(self.op_timeout_s):
                await self._flush_pending()
        except DB_ERRORS as exc:
            log.warning("agent %s: release by %s deferred: database unavailable: %s", agent_id, holder, exc)

    async def holder(self, agent_id: str) -> str | None:
        """The live holder (a stale hold counts as free)."""
        t = reservations
        stmt = select(t.c.holder).where(t.c.agent_id == agent_id, t.c.refreshed_at >= self._stale_before())
        async with asyncio.timeout(self.op_timeout_s), self.engine.connect() as conn:
            return (await conn.execute(stmt)).scalar_one_or_none()

    # ------------------------------------------------------------------ nodes

    async def release_node(self, node: str, *, keep: Collection[str] = ()) -> int:
        """Free every hold of ``node`` (this one at start-up: its offers died with it) except those whose
        holder is in ``keep`` (conversations a restarted controller takes back). Returns how many."""
        t = reservations
        stmt = delete(t).where(t.c.node == node)
        if keep:
            stmt = stmt.where(not_(t.c.holder.in_(list(keep))))
        async with asyncio.timeout(self.op_timeout_s), self.engine.begin() as conn:
            freed = (await conn.execute(stmt)).rowcount
        if node == self.node:
            self._pending_releases = {p for p in self._pending_releases if p[1] in keep}
        log.info("node %s: %d agent reservation(s) freed", node, freed)
        return int(freed)

    async def keep_alive(self) -> int:
        """Retry failed releases, then mark this node's holds as alive. Returns how many it holds."""
        t = reservations
        async with asyncio.timeout(self.op_timeout_s):
            await self._flush_pending()
            async with self.engine.begin() as conn:
                stmt = update(t).where(t.c.node == self.node).values(refreshed_at=func.now())
                return int((await conn.execute(stmt)).rowcount)

    async def run_keep_alive(self, interval_s: float = KEEP_ALIVE_S) -> None:
        """``keep_alive`` every ``interval_s`` until cancelled; a database outage is logged, not raised."""
        if not 0 < interval_s <= self.stale_after_s / 3:
            raise ValueError("the keep-alive interval must be positive and at most a third of stale_after_s")
        while True:
            try:
                await self.keep_alive()
            except DB_ERRORS as exc:
                log.warning("node %s: agent reservations not refreshed: %s", self.node, exc)
            await asyncio.sleep(interval_s)

    async def _flush_pending(self) -> None:
        if not self._pending_releases:
            return
        t = reservations
        pending = list(self._pending_releases)
        held = [and_(t.c.agent_id == a, t.c.holder == h) for a, h in pending]
        async with self.engine.begin() as conn:
            await conn.execute(delete(t).where(t.c.node == self.node, or_(*held)))
        self._pending_releases.difference_update(pending)
