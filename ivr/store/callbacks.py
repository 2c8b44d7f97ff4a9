"""Callback requests: stored by the ``callback`` verb, listed and worked off by staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from ivr.store.database import Database
from ivr.store.models import CallbackAttemptRow, CallbackRow
from ivr.store.timeutil import iso_utc, to_utc

CALLBACK_STATUSES = ("pending", "done", "failed", "cancelled")


class Callbacks(Database):
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

    async def set_callbacks_of_call(self, call_id: str, status: str) -> None:
        """The ACD kept (``done``) or gave up (``failed``) the callback promised on this call."""
        if status not in CALLBACK_STATUSES:
            raise ValueError(f"callback status {status!r} is not one of {', '.join(CALLBACK_STATUSES)}")
        async with self._tx() as session:
            await session.execute(
                update(CallbackRow)
                .where(CallbackRow.call_id == call_id, CallbackRow.status == "pending")
                .values(status=status)
            )

    async def callback_attempt(self, call_id: str, attempt: int, outcome: str, at: datetime) -> None:
        """One try at a promised callback (``answered`` or ``failed:<cause>``)."""
        async with self._tx() as session:
            session.add(CallbackAttemptRow(call_id=call_id, attempt=attempt, outcome=outcome, at=to_utc(at)))

    async def list_callbacks(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        async with self._session() as session:
            stmt = (
                select(CallbackRow)
                .order_by(CallbackRow.created_at.desc(), CallbackRow.id.desc())
                .limit(limit)
            )
            if status is not None:
                stmt = stmt.where(CallbackRow.status == status)
            rows = list((await session.execute(stmt)).scalars())
            call_ids = [r.call_id for r in rows if r.call_id is not None]
            attempts: dict[str, list[dict[str, Any]]] = {}
            if call_ids:
                found = select(CallbackAttemptRow).where(CallbackAttemptRow.call_id.in_(call_ids))
                for a in (await session.execute(found.order_by(CallbackAttemptRow.id))).scalars():
                    attempts.setdefault(a.call_id, []).append(
                        {"attempt": a.attempt, "outcome": a.outcome, "at": iso_utc(a.at)}
                    )
            return [
                {
                    "id": r.id,
                    "call_id": r.call_id,
                    "number": r.number,
                    "preferred_time": r.preferred_time,
                    "note": r.note,
                    "status": r.status,
                    "created_at": iso_utc(r.created_at),
                    "attempts": attempts.get(r.call_id or "", []),
                }
                for r in rows
            ]
