"""The nodes of a cluster in PostgreSQL: each live node's heartbeat, and who closed a node that went away.

``cluster_nodes`` has one row per node. A live node moves its ``refreshed_at`` every few seconds
(``beat``) and names its Asterisk (the system name its channel ids start with, and its SIP address so
others can ask whether that Asterisk still answers). A node whose row is older than ``stale_after_s``
is a *candidate*; ``claim`` turns one into "gone, handled by me" with a conditional ``UPDATE … WHERE
gone_at IS NULL AND refreshed_at < <stale>``: PostgreSQL re-checks that condition on the row's newest
version for every concurrent updater, so of several surviving nodes exactly one gets the row back and
closes the gone node's calls. A node that comes back clears ``gone_at`` with its next beat; it can be
claimed again only after it has gone again. Times are the database's clock.

Created like the ACD's other tables (``acd.pg_tables``), not by the store's migrations: coordination
state on PostgreSQL only, rebuilt by the next beats.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.pg_tables import NodeScoped

metadata = MetaData()

nodes = Table(
    "cluster_nodes",
    metadata,
    Column("node", String(64), primary_key=True),
    Column("system_name", String(64), nullable=True),
    Column("sip", String(128), nullable=True),
    Column("refreshed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("gone_at", DateTime(timezone=True), nullable=True),
    Column("gone_by", String(64), nullable=True),
)
"""One row per node: its last heartbeat; ``gone_at``/``gone_by`` once a survivor has closed it."""

BEAT_S = 5.0
"""How often a live node beats."""
STALE_AFTER_S = 20.0
"""A node whose last beat is older than this may be gone (a controller restarting beats again within a
few seconds; its Asterisk answering SIP keeps it from being judged gone anyway)."""
OP_TIMEOUT_S = 5.0
_CREATE_LOCK = 0x69766E64  # pg_advisory_xact_lock key: nodes starting together create the table once


@dataclass(frozen=True)
class NodeRecord:
    """A node as the table knows it."""

    node: str
    system_name: str | None
    sip: str | None
    refreshed_at: datetime


class NodeRegistry(NodeScoped):
    """This node's end of ``cluster_nodes``: ``create_table``, ``beat``, ``stale_nodes``, ``claim``."""

    def __init__(
        self,
        engine: AsyncEngine,
        node: str,
        *,
        stale_after_s: float = STALE_AFTER_S,
        op_timeout_s: float = OP_TIMEOUT_S,
    ) -> None:
        super().__init__(engine, node, stale_after_s=stale_after_s, op_timeout_s=op_timeout_s)

    async def create_table(self) -> None:
        async with asyncio.timeout(self.op_timeout_s * 4), self.engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_LOCK})
            await conn.run_sync(metadata.create_all, checkfirst=True)

    async def beat(self, *, system_name: str | None, sip: str | None) -> None:
        """This node is alive (and no longer gone, if it was)."""
        t = nodes
        new = insert(t).values(node=self.node, system_name=system_name, sip=sip)
        stmt = new.on_conflict_do_update(
            index_elements=[t.c.node],
            set_={
                "system_name": func.coalesce(new.excluded.system_name, t.c.system_name),
                "sip": func.coalesce(new.excluded.sip, t.c.sip),
                "refreshed_at": func.now(),
                "gone_at": None,
                "gone_by": None,
            },
        )
        async with asyncio.timeout(self.op_timeout_s), self.engine.begin() as conn:
            await conn.execute(stmt)

    async def stale_nodes(self) -> list[NodeRecord]:
        """Other nodes that stopped beating and that nobody has closed yet."""
        t = nodes
        stmt = select(t.c.node, t.c.system_name, t.c.sip, t.c.refreshed_at).where(
            t.c.node != self.node, t.c.gone_at.is_(None), t.c.refreshed_at < self._stale_before()
        )
        async with asyncio.timeout(self.op_timeout_s), self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [NodeRecord(r.node, r.system_name, r.sip, r.refreshed_at) for r in rows]

    async def claim(self, node: str) -> bool:
        """Mark ``node`` gone, handled by this node: True for exactly one claimer while it stays gone."""
        t = nodes
        stmt = (
            update(t)
            .where(t.c.node == node, t.c.gone_at.is_(None), t.c.refreshed_at < self._stale_before())
            .values(gone_at=func.now(), gone_by=self.node)
            .returning(t.c.node)
        )
        async with asyncio.timeout(self.op_timeout_s), self.engine.begin() as conn:
            return (await conn.execute(stmt)).first() is not None
