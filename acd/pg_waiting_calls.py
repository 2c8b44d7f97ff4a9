"""This node's calls in line, shared through PostgreSQL (``acd_waiting_calls``) — transport only.

What is shared, and what it means for reserving an agent, is decided in ``acd.shared_line``; the check
itself runs in ``PostgresReservations.try_reserve`` (``ahead_elsewhere``).

- ``share(calls)`` takes this node's whole line (call id -> ``SharedCall``) after each change of the
  ACD and returns at once; a background task (``run``) writes the difference with what it wrote last
  (upsert the new and changed rows, delete the gone ones, one transaction). Changes made meanwhile are
  coalesced; when the database cannot be reached the task retries, so the table ends up as the line is.
- Rows have a keep-alive (``refreshed_at``, moved every ``keep_alive_s`` by the same task); rows older
  than ``stale_after_s`` belong to a node that stopped and count as gone. A node deletes its rows when
  it starts (``clear_node``: its previous process's line died with it; adopted callers are shared again
  as they come back) and when it stops (``close``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Interval, delete, func, literal, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from acd.pg_tables import create_acd_tables, reservations, waiting_calls
from acd.shared_line import Claim, SharedCall

log = logging.getLogger(__name__)

DB_ERRORS = (SQLAlchemyError, OSError, TimeoutError)
OP_TIMEOUT_S = 5.0
KEEP_ALIVE_S = 2.0
"""How often a live node refreshes its rows (one short UPDATE)."""
STALE_AFTER_S = 6.0
"""Rows not refreshed for this long are a stopped node's: they no longer block another node's offer.
Short on purpose: a stopped node's callers must not hold other nodes' agents back for long, and a row
wrongly taken for stale (a database outage) only loosens the order for a moment, never blocks."""


def _row(call: SharedCall) -> dict[str, object]:
    return {
        "call_id": call.call_id,
        "node": call.node,
        "queue": call.queue,
        "priority": call.priority,
        "entered_at": call.entered_at,
        "lang": call.lang,
        "kind": call.kind,
        "excluded": sorted(call.excluded),
    }


def _stale_before(seconds: float) -> ColumnElement[datetime]:
    return func.now() - literal(timedelta(seconds=seconds), Interval())


async def ahead_elsewhere(
    conn: AsyncConnection,
    claim: Claim,
    node: str,
    *,
    holds_stale_after_s: float,
    stale_after_s: float = STALE_AFTER_S,
) -> list[SharedCall]:
    """Other nodes' live calls ahead of ``claim.call`` in the queues its agent has a skill for, not being
    offered now (no live reservation held by one of their offers), best first. The caller decides with
    ``claim.blocked_by`` which of them the agent could take."""
    w, r = waiting_calls, reservations
    call = claim.call
    later = (call.entered_at, call.call_id)
    queues = claim.queue_names()
    if not queues:
        return []
    being_offered = (
        select(literal(1))
        .where(
            r.c.node == w.c.node,
            func.starts_with(r.c.holder, w.c.call_id + "-o"),
            r.c.refreshed_at >= _stale_before(holds_stale_after_s),
        )
        .exists()
    )
    stmt = (
        select(w)
        .where(
            w.c.node != node,
            w.c.refreshed_at >= _stale_before(stale_after_s),
            w.c.queue.in_(queues),
            (w.c.priority > call.priority)
            | ((w.c.priority == call.priority) & (tuple_(w.c.entered_at, w.c.call_id) < tuple_(*later))),
            ~being_offered,
        )
        .order_by(w.c.priority.desc(), w.c.entered_at, w.c.call_id)
        .limit(200)
    )
    rows = (await conn.execute(stmt)).mappings().all()
    return [
        SharedCall(
            r["call_id"],
            r["node"],
            r["queue"],
            r["priority"],
            r["entered_at"],
            r["lang"],
            r["kind"],
            frozenset(r["excluded"]),
        )
        for r in rows
    ]


class PostgresWaitingCalls:
    """This node's end of the shared line: ``clear_node()`` → ``share(…)`` / ``run()`` → ``close()``."""

    def __init__(
        self,
        engine: AsyncEngine,
        node: str,
        *,
        keep_alive_s: float = KEEP_ALIVE_S,
        retry_s: float = 1.0,
        op_timeout_s: float = OP_TIMEOUT_S,
    ) -> None:
        if not node:
            raise ValueError("node name must not be empty")
        self.engine = engine
        self.node = node
        self.keep_alive_s = keep_alive_s
        self.retry_s = retry_s
        self.op_timeout_s = op_timeout_s
        self._wanted: dict[str, SharedCall] = {}
        self._written: dict[str, SharedCall] = {}
        self._dirty = asyncio.Event()
        self.synced = asyncio.Event()
        """Set while the table holds this node's line as last shared."""

    async def create_tables(self) -> None:
        await create_acd_tables(self.engine)

    async def clear_node(self) -> int:
        """Delete this node's rows (at start: its previous process's line). Returns how many."""
        async with asyncio.timeout(self.op_timeout_s), self.engine.begin() as conn:
            gone = (
                await conn.execute(delete(waiting_calls).where(waiting_calls.c.node == self.node))
            ).rowcount
        self._written.clear()
        self.synced.clear()
        self._dirty.set()
        return int(gone)

    def share(self, calls: Mapping[str, SharedCall]) -> None:
        """This node's line now (never waits: written by ``run``)."""
        if calls != self._wanted:
            self._wanted = dict(calls)
            self.synced.clear()
            self._dirty.set()

    async def sync(self) -> None:
        """Write what changed since the last write (raises the database's errors)."""
        wanted = self._wanted
        gone = [cid for cid in self._written if cid not in wanted]
        changed = [c for cid, c in wanted.items() if self._written.get(cid) != c]
        if gone or changed:
            t = waiting_calls
            async with asyncio.timeout(self.op_timeout_s), self.engine.begin() as conn:
                if gone:
                    await conn.execute(delete(t).where(t.c.node == self.node, t.c.call_id.in_(gone)))
                if changed:
                    new = insert(t).values([_row(c) for c in changed])
                    cols = ("node", "queue", "priority", "entered_at", "lang", "kind", "excluded")
                    await conn.execute(
                        new.on_conflict_do_update(
                            index_elements=[t.c.call_id],
                            set_={**{k: new.excluded[k] for k in cols}, "refreshed_at": func.now()},
                        )
                    )
            for cid in gone:
                self._written.pop(cid, None)
            self._written.update((c.call_id, c) for c in changed)
        if self._wanted is wanted:
            self.synced.set()

    async def keep_alive(self) -> int:
        """Mark this node's rows as alive. Returns how many."""
        t = waiting_calls
        stmt = update(t).where(t.c.node == self.node).values(refreshed_at=func.now())
        async with asyncio.timeout(self.op_timeout_s), self.engine.begin() as conn:
            return int((await conn.execute(stmt)).rowcount)

    async def run(self) -> None:
        """Write each change (coalesced) and the keep-alive until cancelled; outages are logged, retried."""
        loop = asyncio.get_running_loop()
        next_alive = loop.time() + self.keep_alive_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), max(0.0, next_alive - loop.time()))
            try:
                if self._dirty.is_set():
                    self._dirty.clear()
                    await self.sync()
                if loop.time() >= next_alive:
                    next_alive = loop.time() + self.keep_alive_s
                    await self.keep_alive()
            except DB_ERRORS as exc:
                log.warning("node %s: calls in line not shared yet: %s", self.node, exc)
                self._dirty.set()
                await asyncio.sleep(self.retry_s)

    async def close(self) -> None:
        """Take this node's calls out of the shared line (a stopped node offers nothing)."""
        try:
            await self.clear_node()
        except DB_ERRORS as exc:
            log.warning(
                "node %s: calls in line left shared (stale in %g s): %s", self.node, STALE_AFTER_S, exc
            )
