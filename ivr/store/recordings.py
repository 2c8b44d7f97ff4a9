"""Recordings of conversations with operators, and the spans left silent in them (PCI pauses).

A recording is known by Asterisk's live recording name (``<YYYY-MM-DD>/<call id>-<n>``) while it runs;
the API knows it by its row id only (a path never comes from a request).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.database import Database
from ivr.store.models import RecordingPauseRow, RecordingRow
from ivr.store.timeutil import iso_utc, to_utc

PAUSE_REASONS = ("sensitive", "operator", "supervisor")


@dataclass(frozen=True)
class StoredRecording:
    id: int
    call_id: str
    path: str
    """Relative to the recordings directory."""
    started_at: datetime


class Recordings(Database):
    async def recording_started(self, call_id: str, name: str, path: str, at: datetime) -> None:
        async with self._tx() as session:
            await self._call(session, call_id, at)
            session.add(RecordingRow(call_id=call_id, name=name, path=path, started_at=to_utc(at)))

    async def recording_ended(self, name: str, at: datetime) -> None:
        """The recording is finished (and filed); a pause still open ends with it."""
        async with self._tx() as session:
            row = await _by_name(session, name)
            if row is None or row.ended_at is not None:
                return
            row.ended_at = to_utc(at)
            for pause in await _open_pauses(session, row.id):
                pause.resumed_at = to_utc(at)

    async def recording_paused(self, name: str, reason: str, by: str | None, at: datetime) -> None:
        if reason not in PAUSE_REASONS:
            raise ValueError(f"pause reason must be one of {', '.join(PAUSE_REASONS)}")
        async with self._tx() as session:
            row = await _by_name(session, name)
            if row is None or row.ended_at is not None or await _open_pauses(session, row.id):
                return
            session.add(RecordingPauseRow(recording_id=row.id, reason=reason, by=by, paused_at=to_utc(at)))

    async def recording_resumed(self, name: str, at: datetime) -> None:
        async with self._tx() as session:
            row = await _by_name(session, name)
            if row is None:
                return
            for pause in await _open_pauses(session, row.id):
                pause.resumed_at = to_utc(at)

    async def recording_file(self, recording_id: int) -> str | None:
        """The file (relative to the recordings directory) of a recording not deleted; else None."""
        async with self._session() as session:
            row = await session.get(RecordingRow, recording_id)
            if row is None or row.deleted_at is not None or row.ended_at is None:
                return None
            return row.path

    async def recordings_started_before(self, cutoff: datetime) -> list[StoredRecording]:
        """Recordings not yet deleted that started before ``cutoff`` (retention)."""
        async with self._session() as session:
            stmt = (
                select(RecordingRow)
                .where(RecordingRow.started_at < to_utc(cutoff), RecordingRow.deleted_at.is_(None))
                .order_by(RecordingRow.id)
            )
            return [
                StoredRecording(r.id, r.call_id, r.path, r.started_at)
                for r in (await session.execute(stmt)).scalars()
            ]

    async def recording_deleted(self, recording_id: int, at: datetime) -> None:
        async with self._tx() as session:
            row = await session.get(RecordingRow, recording_id)
            if row is not None and row.deleted_at is None:
                row.deleted_at = to_utc(at)


async def _by_name(session: AsyncSession, name: str) -> RecordingRow | None:
    stmt = select(RecordingRow).where(RecordingRow.name == name).order_by(RecordingRow.id.desc()).limit(1)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _open_pauses(session: AsyncSession, recording_id: int) -> Sequence[RecordingPauseRow]:
    stmt = select(RecordingPauseRow).where(
        RecordingPauseRow.recording_id == recording_id, RecordingPauseRow.resumed_at.is_(None)
    )
    return (await session.execute(stmt)).scalars().all()


async def recordings_of_calls(session: AsyncSession, call_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """call id → its recordings as the call record shows them (deleted ones left out), oldest first."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not call_ids:
        return out
    stmt = (
        select(RecordingRow)
        .where(RecordingRow.call_id.in_(call_ids), RecordingRow.deleted_at.is_(None))
        .order_by(RecordingRow.id)
    )
    rows = (await session.execute(stmt)).scalars().all()
    pauses: dict[int, list[RecordingPauseRow]] = defaultdict(list)
    if rows:
        pstmt = (
            select(RecordingPauseRow)
            .where(RecordingPauseRow.recording_id.in_([r.id for r in rows]))
            .order_by(RecordingPauseRow.id)
        )
        for p in (await session.execute(pstmt)).scalars():
            pauses[p.recording_id].append(p)
    for r in rows:
        out[r.call_id].append(
            {
                "id": r.id,
                "started_at": iso_utc(r.started_at),
                "ended_at": iso_utc(r.ended_at),
                "url": f"/api/recordings/{r.id}",
                "pauses": [
                    {
                        "reason": p.reason,
                        "by": p.by,
                        "paused_at": iso_utc(p.paused_at),
                        "resumed_at": iso_utc(p.resumed_at),
                    }
                    for p in pauses[r.id]
                ],
            }
        )
    return out
