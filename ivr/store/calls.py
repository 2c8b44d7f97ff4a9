"""``CallStore``: every write about a call and the reads behind ``/api/calls``.

Parameterised SQLAlchemy statements only; nothing dialect-specific beyond SQLite's connect-time
PRAGMAs (WAL, busy timeout, foreign keys), so ``postgresql+asyncpg`` URLs work the same way.
Every write creates the call's row if it does not exist yet: a record exists from the first write.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.expression import Executable

from ivr.store import migrate
from ivr.store.models import CallbackRow, CallRow, InputRow, OfferRow, PathRow, SurveyRow
from ivr.store.shape import call_dict
from ivr.store.timeutil import iso_utc, to_utc

log = logging.getLogger(__name__)

_Row = TypeVar("_Row", PathRow, InputRow, OfferRow)

INPUT_KINDS = ("dtmf", "speech")
CALLBACK_STATUSES = ("pending", "done", "cancelled")


@dataclass(frozen=True)
class OpenCall:
    """A call that has not ended, as the controller needs it to adopt the channel after a restart."""

    id: str
    channel_id: str
    flow: str | None
    last_node: str | None
    """The last node entered (where to resume), or None if no node was recorded."""
    started_at: datetime
    answered_at: datetime | None
    caller_number: str | None
    caller_name: str | None
    dialed: str | None
    queue: str | None


class StoreClosedError(RuntimeError):
    """The store was used before ``open()`` or after ``close()``."""


def default_db_url(data_dir: Path) -> str:
    """The default SQLite file URL for a data directory."""
    return f"sqlite+aiosqlite:///{Path(data_dir) / 'ivr.db'}"


class CallStore:
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

    # -- writes ------------------------------------------------------------------------------

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

    async def call_started(
        self,
        call_id: str,
        channel_id: str | None,
        caller_number: str | None,
        caller_name: str | None,
        dialed: str | None,
        flow: str | None,
        started_at: datetime,
    ) -> None:
        await self._update_call(
            call_id,
            started_at,
            channel_id=channel_id,
            caller_number=caller_number,
            caller_name=caller_name,
            dialed=dialed,
            flow=flow,
            started_at=to_utc(started_at),
        )

    async def call_answered(self, call_id: str, at: datetime) -> None:
        await self._update_call(call_id, at, CallRow.answered_at.is_(None), answered_at=to_utc(at))

    async def node_entered(self, call_id: str, node_id: str, at: datetime) -> None:
        await self._add_child(
            call_id, at, insert(PathRow).values(call_id=call_id, node_id=node_id, at=to_utc(at))
        )

    async def input_taken(
        self, call_id: str, node_id: str, kind: str, value: str, sensitive: bool, at: datetime
    ) -> None:
        """Record an input (``kind`` is normally one of ``INPUT_KINDS``; others are kept as given).

        ``value`` is stored as given: the session masks sensitive values before calling."""
        await self._add_child(
            call_id,
            at,
            insert(InputRow).values(
                call_id=call_id, node_id=node_id, kind=kind, value=value, sensitive=sensitive, at=to_utc(at)
            ),
        )

    async def call_ended(
        self, call_id: str, at: datetime, outcome: str | None, cause: str | int | None
    ) -> None:
        values: dict[str, Any] = {
            "ended_at": to_utc(at),
            "hangup_cause": None if cause is None else str(cause),
        }
        if outcome is not None:
            values["outcome"] = outcome
        await self._update_call(call_id, at, **values)

    async def queue_entered(self, call_id: str, queue: str, at: datetime) -> None:
        await self._update_call(call_id, at, queue=queue, queued_at=to_utc(at))

    async def offer_started(self, call_id: str, agent: str, at: datetime) -> None:
        """The ACD started ringing ``agent`` for this call (agent leg Ringing)."""
        async with self._tx() as session:
            await self._call(session, call_id, at)
            session.add(OfferRow(call_id=call_id, agent=agent, ring_started_at=to_utc(at)))

    async def offer_answered(self, call_id: str, agent: str, at: datetime) -> None:
        """The agent leg went Up: marks the agent's open offer answered and the call's agent."""
        async with self._tx() as session:
            call = await self._call(session, call_id, at)
            offer = await self._open_offer(session, call_id, agent)
            if offer is None:
                offer = OfferRow(call_id=call_id, agent=agent, ring_started_at=to_utc(at))
                session.add(offer)
            offer.answered_at = to_utc(at)
            call.agent = agent

    async def offer_ended(self, call_id: str, agent: str, at: datetime, outcome: str) -> None:
        """Close the agent's open offer with an outcome (answered, rona, rejected, abandoned…)."""
        async with self._tx() as session:
            await self._call(session, call_id, at)
            offer = await self._open_offer(session, call_id, agent)
            if offer is None:
                log.warning("offer_ended for call %s agent %s without an open offer", call_id, agent)
                return
            offer.ended_at = to_utc(at)
            offer.outcome = outcome

    @staticmethod
    async def _open_offer(session: AsyncSession, call_id: str, agent: str) -> OfferRow | None:
        stmt = (
            select(OfferRow)
            .where(OfferRow.call_id == call_id, OfferRow.agent == agent, OfferRow.ended_at.is_(None))
            .order_by(OfferRow.id.desc())
            .limit(1)
        )
        return (await session.execute(stmt)).scalar_one_or_none()

    async def callback_requested(
        self,
        call_id: str | None,
        number: str,
        preferred_time: str | None,
        note: str | None,
        at: datetime,
    ) -> int:
        """Store a callback request (status "pending"); returns its id.

        ``preferred_time`` is kept as the caller gave it (free text or an ISO time)."""
        async with self._tx() as session:
            if call_id is not None:
                await self._call(session, call_id, at)
            row = CallbackRow(
                call_id=call_id,
                number=number,
                preferred_time=preferred_time,
                note=note,
                status="pending",
                created_at=to_utc(at),
            )
            session.add(row)
            await session.flush()
            return row.id

    async def set_callback_status(self, callback_id: int, status: str) -> bool:
        if status not in CALLBACK_STATUSES:
            raise ValueError(f"callback status {status!r} is not one of {', '.join(CALLBACK_STATUSES)}")
        async with self._tx() as session:
            result = await session.execute(
                update(CallbackRow).where(CallbackRow.id == callback_id).values(status=status)
            )
            return bool(getattr(result, "rowcount", 0))

    async def survey_answered(
        self, call_id: str, score: int, at: datetime, question: str | None = None
    ) -> None:
        async with self._tx() as session:
            await self._call(session, call_id, at)
            session.add(SurveyRow(call_id=call_id, question=question, score=score, at=to_utc(at)))

    # -- reads -------------------------------------------------------------------------------

    async def list_calls(self, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first, in the ``/api/calls`` shape."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        async with self._session() as session:
            stmt = select(CallRow).order_by(CallRow.started_at.desc(), CallRow.id.desc()).limit(limit)
            calls = list((await session.execute(stmt)).scalars())
            return await self._shape(session, calls)

    async def get_call(self, call_id: str) -> dict[str, Any] | None:
        async with self._session() as session:
            call = await session.get(CallRow, call_id)
            if call is None:
                return None
            return (await self._shape(session, [call]))[0]

    async def find_open_call_by_channel(self, channel_id: str) -> OpenCall | None:
        """The newest call on this channel that has not ended (for resync after a restart)."""
        async with self._session() as session:
            stmt = (
                select(CallRow)
                .where(CallRow.channel_id == channel_id, CallRow.ended_at.is_(None))
                .order_by(CallRow.started_at.desc(), CallRow.id.desc())
                .limit(1)
            )
            call = (await session.execute(stmt)).scalar_one_or_none()
            if call is None:
                return None
            last = (
                select(PathRow.node_id).where(PathRow.call_id == call.id).order_by(PathRow.id.desc()).limit(1)
            )
            return OpenCall(
                id=call.id,
                channel_id=channel_id,
                flow=call.flow,
                last_node=(await session.execute(last)).scalar_one_or_none(),
                started_at=call.started_at,
                answered_at=call.answered_at,
                caller_number=call.caller_number,
                caller_name=call.caller_name,
                dialed=call.dialed,
                queue=call.queue,
            )

    async def list_callbacks(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        async with self._session() as session:
            stmt = (
                select(CallbackRow)
                .order_by(CallbackRow.created_at.desc(), CallbackRow.id.desc())
                .limit(limit)
            )
            if status is not None:
                stmt = stmt.where(CallbackRow.status == status)
            return [
                {
                    "id": r.id,
                    "call_id": r.call_id,
                    "number": r.number,
                    "preferred_time": r.preferred_time,
                    "note": r.note,
                    "status": r.status,
                    "created_at": iso_utc(r.created_at),
                }
                for r in (await session.execute(stmt)).scalars()
            ]

    async def survey_results(self, call_id: str) -> list[dict[str, Any]]:
        async with self._session() as session:
            stmt = select(SurveyRow).where(SurveyRow.call_id == call_id).order_by(SurveyRow.id)
            return [
                {"question": r.question, "score": r.score, "at": iso_utc(r.at)}
                for r in (await session.execute(stmt)).scalars()
            ]

    async def _shape(self, session: AsyncSession, calls: Sequence[CallRow]) -> list[dict[str, Any]]:
        ids = [c.id for c in calls]
        if not ids:
            return []
        paths = await self._children(session, PathRow, ids)
        inputs = await self._children(session, InputRow, ids)
        offers = await self._children(session, OfferRow, ids)
        return [call_dict(c, paths[c.id], inputs[c.id], offers[c.id], self.ring_cycle_s) for c in calls]

    @staticmethod
    async def _children(session: AsyncSession, model: type[_Row], ids: list[str]) -> dict[str, list[_Row]]:
        grouped: dict[str, list[_Row]] = defaultdict(list)
        stmt = select(model).where(model.call_id.in_(ids)).order_by(model.id)
        for row in (await session.execute(stmt)).scalars():
            grouped[row.call_id].append(row)
        return grouped
