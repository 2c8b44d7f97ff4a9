"""The database under ``CallStore``: engine lifecycle, transactions, and the helpers every write uses.

Parameterised SQLAlchemy statements only; nothing dialect-specific beyond SQLite's connect-time
PRAGMAs (WAL, busy timeout, foreign keys), so ``postgresql+asyncpg`` URLs work the same way.
Every write creates the call's row if it does not exist yet: a record exists from the first write.
Inside ``batch()`` the call-record writes are held back and sent at the end as a few executemany
statements (``pending_writes.py``); the rows of calls a committed batch created are remembered, so
later writes of those calls skip the create.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from ivr.store import migrate
from ivr.store.models import CallRow
from ivr.store.pending_writes import PendingWrites
from ivr.store.timeutil import to_utc

log = logging.getLogger(__name__)


KNOWN_CALLS_KEPT = 50_000
"""Call ids whose row is known to exist, remembered (oldest forgotten first) to skip their create."""


@dataclass
class _Batch:
    session: AsyncSession
    pending: PendingWrites = field(default_factory=PendingWrites)
    created: set[str] = field(default_factory=set)
    """Calls whose row this transaction made sure of (remembered once it commits)."""


class StoreClosedError(RuntimeError):
    """The store was used before ``open()`` or after ``close()``."""


def default_db_url(data_dir: Path) -> str:
    """The default SQLite file URL for a data directory."""
    return f"sqlite+aiosqlite:///{Path(data_dir) / 'ivr.db'}"


class Database:
    """One database connection pool; the record classes (calls, offers, callbacks, surveys) build on it."""

    def __init__(
        self,
        db_url: str,
        *,
        ring_cycle_s: float = 3.0,
        busy_timeout_s: float = 5.0,
        ping_timeout_s: float = 2.0,
        coalesce_writes: bool = True,
    ) -> None:
        """``coalesce_writes=False``: every write runs at once as two statements (the pre-#12 way,
        kept as the baseline of ``python -m bench.store`` and as the oracle of its tests)."""
        if ring_cycle_s <= 0:
            raise ValueError("ring_cycle_s must be positive")
        self.db_url = db_url
        self.ring_cycle_s = ring_cycle_s
        self.busy_timeout_s = busy_timeout_s
        self.ping_timeout_s = ping_timeout_s
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self.coalesce_writes = coalesce_writes
        self._coalesce = False  # coalesce_writes, and the dialect can (SQLite, PostgreSQL)
        self._known_calls: dict[str, None] = {}
        self._batch_session: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar(
            f"call-store-batch-{id(self)}", default=None
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def open(self) -> None:
        """Connect and run migrations up to the newest revision."""
        if self._engine is not None:
            return
        url = make_url(self.db_url)
        is_sqlite = url.get_backend_name() == "sqlite"
        connect_args: dict[str, Any] = {}
        if is_sqlite:
            connect_args["timeout"] = self.busy_timeout_s
            if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args=connect_args, pool_pre_ping=not is_sqlite)
        if is_sqlite:
            busy_ms = int(self.busy_timeout_s * 1000)

            @event.listens_for(engine.sync_engine, "connect")
            def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
                cursor = dbapi_conn.cursor()
                try:
                    cursor.execute("PRAGMA journal_mode=WAL")
                    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
                    cursor.execute("PRAGMA foreign_keys=ON")
                finally:
                    cursor.close()

        try:
            await migrate.upgrade(engine)
        except BaseException:
            await engine.dispose()
            raise
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._coalesce = self.coalesce_writes and engine.dialect.name in ("sqlite", "postgresql")
        self._known_calls.clear()

    async def close(self) -> None:
        engine, self._engine, self._sessions = self._engine, None, None
        self._known_calls.clear()
        if engine is not None:
            await engine.dispose()

    async def ping(self) -> bool:
        """True when the database answers a query on the calls table within ``ping_timeout_s``."""
        if self._sessions is None:
            return False
        try:
            async with asyncio.timeout(self.ping_timeout_s), self._sessions() as session:
                await session.execute(select(CallRow.id).limit(1))
        except Exception as exc:
            log.debug("store ping failed: %s", exc)
            return False
        return True

    def _session(self) -> AsyncSession:
        if self._sessions is None:
            raise StoreClosedError("CallStore is not open")
        return self._sessions()

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        """The transaction a write runs in: the surrounding ``batch()`` one, else its own."""
        shared = self._batch_session.get()
        if shared is not None:
            await self._send(shared)  # writes held back come first: order kept
            yield shared.session
            return
        async with self._session() as session, session.begin():
            yield session

    def batch(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Run several writes in one transaction (all or none): the recorder's unit of work."""
        return self._batch()

    @contextlib.asynccontextmanager
    async def _batch(self) -> AsyncIterator[None]:
        if self._batch_session.get() is not None:  # nested: part of the surrounding batch
            yield
            return
        batch: _Batch | None = None
        try:
            async with self._session() as session, session.begin():
                batch = _Batch(session)
                token = self._batch_session.set(batch)
                try:
                    yield
                    await self._send(batch)
                finally:
                    self._batch_session.reset(token)
        except BaseException:
            # Rolled back, or committed without our knowing: what we think exists may not.
            self._known_calls.clear()
            raise
        self._remember(batch.created if batch is not None else ())

    async def _send(self, batch: _Batch) -> None:
        """Execute the writes the batch holds back, all in one ``run_sync``."""
        if not batch.pending:
            return
        batch.created.update(batch.pending.ensure)
        dialect = batch.session.bind.dialect.name if batch.session.bind is not None else ""
        updated = batch.pending.calls_updated
        statements = batch.pending.take(dialect, self._known_calls)

        def run(session: Session) -> None:
            session.flush()  # ORM changes made before these writes go first
            connection = session.connection()
            for statement, params in statements:
                connection.execute(statement, params[0] if len(params) == 1 else params)
            for row in list(session.identity_map.values()):
                if isinstance(row, CallRow) and row.id in updated:
                    session.expire(row)  # an earlier write of the batch loaded it: reload when read

        await batch.session.run_sync(run)

    def _remember(self, call_ids: set[str] | tuple[()]) -> None:
        known = self._known_calls
        for call_id in call_ids:
            known[call_id] = None
        while len(known) > KNOWN_CALLS_KEPT:
            del known[next(iter(known))]

    # -- helpers for writes ------------------------------------------------------------------

    @staticmethod
    async def _call(session: AsyncSession, call_id: str, at: datetime) -> CallRow:
        call = await session.get(CallRow, call_id)
        if call is None:
            call = CallRow(id=call_id, started_at=to_utc(at))
            session.add(call)
            await session.flush()
        return call

    @staticmethod
    async def _ensure_call(session: AsyncSession, call_id: str, at: datetime) -> None:
        """Create the call's row if no write created it yet: one statement, no ORM load.

        Every write may be a call's first (a call adopted after a restart, a write reordered by a
        retry), so each one makes sure the row exists before touching it or its children.
        """
        values = {"id": call_id, "started_at": to_utc(at)}
        dialect = session.bind.dialect.name if session.bind is not None else ""
        if dialect == "sqlite":
            await session.execute(sqlite_insert(CallRow).values(values).on_conflict_do_nothing())
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert  # not loaded for SQLite

            await session.execute(pg_insert(CallRow).values(values).on_conflict_do_nothing())
        elif await session.get(CallRow, call_id) is None:
            session.add(CallRow(**values))
            await session.flush()

    async def _add_row(self, call_id: str, at: datetime, table: str, values: dict[str, Any]) -> None:
        """Insert a row that belongs to the call (path step, input) into ``table``, creating the
        call's row first if needed; inside a batch it is held back and sent with the others."""
        if not self._coalesce:
            await self._add_child(call_id, at, insert(CallRow.metadata.tables[table]).values(values))
            return
        async with self._batch():
            batch = self._batch_session.get()
            assert batch is not None
            batch.pending.need_row(call_id, to_utc(at))
            batch.pending.add_row(table, values)

    async def _add_child(self, call_id: str, at: datetime, statement: Executable) -> None:
        """Insert a row that belongs to the call (path step, input), creating the call's row first."""
        async with self._tx() as session:
            await self._ensure_call(session, call_id, at)
            await session.execute(statement)

    async def _update_call(
        self, call_id: str, at: datetime, *where: Any, where_null: tuple[str, ...] = (), **values: Any
    ) -> None:
        """Update the call's row (creating it first if needed). ``where_null``: columns that must still
        be NULL for the update to apply; other ``where`` clauses make it run at once, not held back."""
        if self._coalesce and not where:
            async with self._batch():
                batch = self._batch_session.get()
                assert batch is not None
                batch.pending.need_row(call_id, to_utc(at))
                batch.pending.update_call(call_id, where_null, values)
            return
        where += tuple(getattr(CallRow, name).is_(None) for name in where_null)
        async with self._tx() as session:
            await self._ensure_call(session, call_id, at)
            await session.execute(update(CallRow).where(CallRow.id == call_id, *where).values(**values))
