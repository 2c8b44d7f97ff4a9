"""Agents' states shared by every node: a table of each agent's latest state plus LISTEN/NOTIFY.

Transport only: what a change from another node means for this node's distributor is decided elsewhere.

- ``publish(change)`` upserts the agent's row in ``acd_agent_states`` (its ``version`` counts the agent's
  changes) and, in the same transaction, ``NOTIFY acd_agent_states`` with the row as JSON; PostgreSQL
  delivers it to every listener when the transaction commits. A change whose ``since`` is older than the
  stored one is not written (a newer one is already there). When the database cannot be reached the
  newest change per agent is kept and written once it is back.
- ``changes()`` yields the changes *other* nodes publish (this node's own are skipped), newest per agent
  only: a change whose version this node has already seen is dropped, so a duplicate (notification and
  re-read) or a late one changes nothing.
- One dedicated asyncpg connection LISTENs. When it is lost (PostgreSQL restarted, network) it is
  reopened with backoff; after every (re)connection, once LISTEN is active, the whole table is read
  again, so a change made while this node was not listening is still delivered. A ping every
  ``ping_interval_s`` notices a connection that died silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from acd.pg_tables import agent_states, create_acd_tables

log = logging.getLogger(__name__)

CHANNEL = "acd_agent_states"
PUBLISH_ERRORS = (SQLAlchemyError, OSError, TimeoutError)
LISTEN_ERRORS = (*PUBLISH_ERRORS, asyncpg.PostgresError, asyncpg.InterfaceError)
READ_ALL = "SELECT agent_id, state, reason, current_call, since, node, version FROM acd_agent_states"


@dataclass(frozen=True)
class AgentStateChange:
    """An agent's state as one node set it. ``node`` and ``version`` are filled in by ``publish``."""

    agent_id: str
    state: str
    since: datetime
    reason: str | None = None
    current_call: str | None = None
    node: str = ""
    version: int = 0

    def to_json(self) -> str:
        return json.dumps({**self.__dict__, "since": self.since.isoformat()})

    @classmethod
    def from_json(cls, payload: str) -> AgentStateChange:
        data = json.loads(payload)
        return cls(**{**data, "since": datetime.fromisoformat(data["since"])})

    @classmethod
    def from_row(cls, row: Any) -> AgentStateChange:
        return cls(
            row["agent_id"], row["state"], row["since"], row["reason"], row["current_call"], row["node"],
            int(row["version"]),
        )  # fmt: skip


class PostgresAgentStates:
    """This node's end of the shared agent states: ``start()``, ``publish``, ``changes()``, ``close()``."""

    def __init__(
        self,
        engine: AsyncEngine,
        node: str,
        *,
        ping_interval_s: float = 2.0,
        min_backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
        op_timeout_s: float = 5.0,
    ) -> None:
        if not node:
            raise ValueError("node name must not be empty")
        self.engine = engine
        self.node = node
        self.ping_interval_s = ping_interval_s
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.op_timeout_s = op_timeout_s
        self.dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.listener_name = f"acd-listen-{node}"
        """The listening connection's ``application_name`` (``pg_stat_activity``)."""
        self.connected = asyncio.Event()
        """Set while the listener is connected, LISTENing and caught up with the table."""
        self._seen: dict[str, int] = {}
        self._unsent: dict[str, AgentStateChange] = {}
        self._queue: asyncio.Queue[AgentStateChange | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def create_tables(self) -> None:
        await create_acd_tables(self.engine)

    async def start(self) -> None:
        """Start listening (in the background; ``connected`` is set once caught up)."""
        if self._task is None:
            self._task = asyncio.create_task(self._listen_forever(), name=f"acd-agent-states-{self.node}")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._queue.put_nowait(None)

    async def changes(self) -> AsyncIterator[AgentStateChange]:
        """Other nodes' changes, in the order they arrive, until ``close()``."""
        while (change := await self._queue.get()) is not None:
            yield change

    async def snapshot(self) -> list[AgentStateChange]:
        """Every agent's stored state (all nodes'), e.g. at start-up; ``changes()`` will not repeat them."""
        async with asyncio.timeout(self.op_timeout_s), self.engine.connect() as conn:
            rows = (await conn.execute(select(agent_states))).mappings().all()
        found = [AgentStateChange.from_row(r) for r in rows]
        for c in found:
            self._seen[c.agent_id] = max(self._seen.get(c.agent_id, 0), c.version)
        return found

    # ------------------------------------------------------------------ publishing

    async def publish(self, change: AgentStateChange) -> AgentStateChange | None:
        """Store and announce ``change`` for this node. Returns it as stored (with its version), or None
        when not written now: the database is unreachable (kept, written when it is back) or a change
        with a later ``since`` is already stored."""
        self._unsent[change.agent_id] = replace(change, node=self.node)
        try:
            async with asyncio.timeout(self.op_timeout_s):
                return await self._send(change.agent_id)
        except PUBLISH_ERRORS as exc:
            log.warning("agent %s state not shared yet: database unavailable: %s", change.agent_id, exc)
            return None

    async def _send(self, agent_id: str) -> AgentStateChange | None:
        change = self._unsent[agent_id]
        t = agent_states
        new = insert(t).values(
            agent_id=change.agent_id, state=change.state, reason=change.reason,
            current_call=change.current_call, since=change.since, node=change.node, version=1,
        )  # fmt: skip
        stmt = new.on_conflict_do_update(
            index_elements=[t.c.agent_id],
            set_={
                "state": new.excluded.state,
                "reason": new.excluded.reason,
                "current_call": new.excluded.current_call,
                "since": new.excluded.since,
                "node": new.excluded.node,
                "version": t.c.version + 1,
            },
            where=t.c.since <= new.excluded.since,
        ).returning(t.c.version)
        async with self.engine.begin() as conn:
            version = (await conn.execute(stmt)).scalar_one_or_none()
            stored = None if version is None else replace(change, version=int(version))
            if stored is not None:
                await conn.execute(select(func.pg_notify(CHANNEL, stored.to_json())))
        if self._unsent.get(agent_id) is change:
            del self._unsent[agent_id]
        if stored is not None:
            self._seen[agent_id] = max(self._seen.get(agent_id, 0), stored.version)
        return stored

    async def _send_unsent(self) -> None:
        """Write the changes kept while the database was away (errors are logged; tried again later)."""
        try:
            async with asyncio.timeout(self.op_timeout_s):
                for agent_id in list(self._unsent):
                    if agent_id in self._unsent:
                        await self._send(agent_id)
        except PUBLISH_ERRORS as exc:
            log.warning("node %s: %d agent state(s) not shared yet: %s", self.node, len(self._unsent), exc)

    # ------------------------------------------------------------------ listening

    def _deliver(self, change: AgentStateChange) -> None:
        if change.version <= self._seen.get(change.agent_id, 0):
            return
        self._seen[change.agent_id] = change.version
        if change.node != self.node:
            self._queue.put_nowait(change)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        try:
            change = AgentStateChange.from_json(str(payload))
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("ignored a malformed agent state notification %r: %s", payload, exc)
            return
        self._deliver(change)

    async def _listen_forever(self) -> None:
        backoff = self.min_backoff_s
        while True:
            try:
                await self._listen_once()
                backoff = self.min_backoff_s
            except LISTEN_ERRORS as exc:
                log.warning("node %s: agent state listener lost (%s); reconnecting", self.node, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.max_backoff_s)

    async def _listen_once(self) -> None:
        conn = await asyncpg.connect(
            self.dsn, timeout=self.op_timeout_s, server_settings={"application_name": self.listener_name}
        )
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _c: lost.set())
        try:
            await conn.add_listener(CHANNEL, self._on_notify)
            await self._send_unsent()
            for row in await conn.fetch(READ_ALL, timeout=self.op_timeout_s):
                self._deliver(AgentStateChange.from_row(row))
            self.connected.set()
            log.info("node %s: listening to agent state changes", self.node)
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self.ping_interval_s)
                    raise ConnectionResetError("the listening connection was closed")
                await conn.fetchval("SELECT 1", timeout=self.op_timeout_s)
                if self._unsent:
                    await self._send_unsent()
        finally:
            self.connected.clear()
            conn.terminate()
