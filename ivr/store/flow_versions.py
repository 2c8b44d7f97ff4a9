"""Flow versions: every publish of a flow from the browser (or a rollback), with its YAML, who and when.

Versions are numbered 1, 2, 3… per flow. Numbering is decided inside the insert's transaction; the
web layer publishes one flow at a time (one process), so two publishes never race for a number.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from ivr.store.database import Database
from ivr.store.models import FlowVersionRow
from ivr.store.timeutil import iso_utc, to_utc


def _summary(row: FlowVersionRow) -> dict[str, Any]:
    return {
        "flow": row.flow,
        "version": row.version,
        "author": row.author,
        "note": row.note,
        "at": iso_utc(row.at),
    }


class FlowVersions(Database):
    async def add_flow_version(
        self, flow: str, source: str, author: str, note: str | None = None, at: datetime | None = None
    ) -> dict[str, Any]:
        """Keep ``source`` as ``flow``'s next version; returns it (without the source)."""
        when = to_utc(at) if at is not None else datetime.now(UTC)
        async with self._tx() as session:
            last = await session.scalar(
                select(func.max(FlowVersionRow.version)).where(FlowVersionRow.flow == flow)
            )
            row = FlowVersionRow(
                flow=flow, version=(last or 0) + 1, source=source, author=author, note=note, at=when
            )
            session.add(row)
            await session.flush()
            return _summary(row)

    async def list_flow_versions(self, flow: str, limit: int = 100) -> list[dict[str, Any]]:
        """``flow``'s versions, newest first, without their source."""
        async with self._session() as session:
            stmt = (
                select(FlowVersionRow)
                .where(FlowVersionRow.flow == flow)
                .order_by(FlowVersionRow.version.desc())
                .limit(limit)
            )
            return [_summary(r) for r in (await session.execute(stmt)).scalars()]

    async def get_flow_version(self, flow: str, version: int) -> dict[str, Any] | None:
        """One version with its ``source``, or None."""
        async with self._session() as session:
            stmt = select(FlowVersionRow).where(
                FlowVersionRow.flow == flow, FlowVersionRow.version == version
            )
            row = (await session.execute(stmt)).scalars().first()
            return None if row is None else {**_summary(row), "source": row.source}
