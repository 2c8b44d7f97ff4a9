"""The ACD's own PostgreSQL tables for a cluster: agent reservations, the agents' current states and the
calls waiting on each node.

They are created here (``create_acd_tables``), not by the store's Alembic migrations: they exist only on
PostgreSQL (a single SQLite node never uses them), they belong to the ACD, not to the call records, and
the store's models must match its migrations exactly (``tests/store/test_migrations.py``), so adding
them there would put ACD tables into ``ivr.store.models``. Their contents are coordination state, not
records: every row can be rebuilt (a node frees its holds at start-up; states are re-published on
change), so a later change of shape may drop and re-create them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    Interval,
    MetaData,
    String,
    Table,
    func,
    literal,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

metadata = MetaData()

reservations = Table(
    "acd_agent_reservations",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("node", String(64), nullable=False, index=True),
    Column("reserved_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("refreshed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
"""One row per held agent; no row = free. ``refreshed_at`` is moved by the holding node's keep-alive."""

agent_states = Table(
    "acd_agent_states",
    metadata,
    Column("agent_id", String(64), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("reason", String(128), nullable=True),
    Column("current_call", String(64), nullable=True),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("node", String(64), nullable=False),
    Column("version", BigInteger, nullable=False),
)
"""Each agent's latest state, as the node that changed it last published it; ``version`` counts the
changes of that agent (1, 2, …) so a receiver keeps only the newest."""

waiting_calls = Table(
    "acd_waiting_calls",
    metadata,
    Column("call_id", String(64), primary_key=True),
    Column("node", String(64), nullable=False, index=True),
    Column("queue", String(64), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("entered_at", DateTime(timezone=True), nullable=False),
    Column("lang", String(16), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("excluded", ARRAY(String(64)), nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
"""Each node's calls in line (``acd.shared_line.SharedCall``), written by that node only; a node's rows
are replaced when it starts and ``refreshed_at`` is moved by its keep-alive (older: a dead node's)."""

_CREATE_LOCK = 0x61636474  # pg_advisory_xact_lock key: nodes starting together create the tables once


async def create_acd_tables(engine: AsyncEngine) -> None:
    """Create the tables if missing. Concurrent ``CREATE TABLE IF NOT EXISTS`` can fail on PostgreSQL
    (a duplicate type name), so creators queue on a transaction-scoped advisory lock."""
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CREATE_LOCK})
        await conn.run_sync(metadata.create_all, checkfirst=True)


class NodeScoped:
    """A node's end of a shared table whose rows go stale when their node stops refreshing them."""

    def __init__(self, engine: AsyncEngine, node: str, *, stale_after_s: float, op_timeout_s: float) -> None:
        if not node:
            raise ValueError("node name must not be empty")
        if stale_after_s <= 0:
            raise ValueError("stale_after_s must be positive")
        self.engine = engine
        self.node = node
        self.stale_after_s = stale_after_s
        self.op_timeout_s = op_timeout_s

    def _stale_before(self) -> ColumnElement[datetime]:
        """Rows refreshed before this (the database's clock) are stale."""
        return func.now() - literal(timedelta(seconds=self.stale_after_s), Interval())
