"""The database under ``CallStore``: engine lifecycle, transactions, and the helpers every write uses.

Parameterised SQLAlchemy statements only; nothing dialect-specific beyond SQLite's connect-time
PRAGMAs (WAL, busy timeout, foreign keys), so ``postgresql+asyncpg`` URLs work the same way.
Every write creates the call's row if it does not exist yet: a record exists from the first write.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.expression import Executable

from ivr.store import migrate
from ivr.store.models import CallRow
from ivr.store.timeutil import to_utc

log = logging.getLogger(__name__)


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
    ) -> None:
        if ring_cycle_s <= 0:
            raise ValueError("ring_cycle_s must be positive")
        self.db_url = db_url
        self.ring_cycle_s = ring_cycle_s
        self.busy_timeout_s = busy_timeout_s
        self.ping_timeout_s = ping_timeout_s
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._batch_session: contextvars.ContextVar[AsyncSession | None] = contextvars.ContextVar(
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
        engine = create_async_engine(url, connect_args=connect_args, pool_pre_ping=True)
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

    async def close(self) -> None:
        engine, self._engine, self._sessions = self._engine, None, None
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
            yield shared
            return
        async with self._session() as session, session.begin():
            yield session

    @contextlib.asynccontextmanager
    async def batch(self) -> AsyncIterator[None]:
        """Run several writes in one transaction (all or none): the recorder's unit of work."""
        async with self._session() as session, session.begin():
            token = self._batch_session.set(session)
            try:
                yield
            finally:
                self._batch_session.reset(token)

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

    async def _add_child(self, call_id: str, at: datetime, statement: Executable) -> None:
        """Insert a row that belongs to the call (path step, input), creating the call's row first."""
        async with self._tx() as session:
            await self._ensure_call(session, call_id, at)
            await session.execute(statement)

    async def _update_call(self, call_id: str, at: datetime, *where: Any, **values: Any) -> None:
        async with self._tx() as session:
            await self._ensure_call(session, call_id, at)
            await session.execute(update(CallRow).where(CallRow.id == call_id, *where).values(**values))
