"""Records the controller could not finish itself: calls whose channel went while no controller ran
(closed at the next connection) and calls that took the dialplan fallback (imported from Asterisk's CDR).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.call_records import OpenCall, open_call
from ivr.store.database import Database
from ivr.store.models import CallRow, OfferRow, PathRow
from ivr.store.timeutil import to_utc


class LostCalls(Database):
    async def open_calls(self, limit: int = 10_000) -> list[OpenCall]:
        """Calls on a channel that have not ended, oldest first, with the last node each entered."""
        async with self._session() as session:
            stmt = (
                select(CallRow)
                .where(CallRow.ended_at.is_(None), CallRow.channel_id.is_not(None))
                .order_by(CallRow.started_at, CallRow.id)
                .limit(limit)
            )
            calls = list((await session.execute(stmt)).scalars())
            last_nodes = await _last_nodes(session, [call.id for call in calls])
            return [open_call(call, call.channel_id or "", last_nodes.get(call.id)) for call in calls]

    async def close_lost_call(self, call_id: str, at: datetime, outcome: str, cause: str) -> bool:
        """End a call that is still open, and its offers; False (nothing changed) if it has ended since."""
        ended = to_utc(at)
        async with self._tx() as session:
            result = await session.execute(
                update(CallRow)
                .where(CallRow.id == call_id, CallRow.ended_at.is_(None))
                .values(ended_at=ended, outcome=outcome, hangup_cause=cause[:128])
            )
            if getattr(result, "rowcount", 0) != 1:
                return False
            stmt = select(OfferRow).where(OfferRow.call_id == call_id, OfferRow.ended_at.is_(None))
            for offer in (await session.execute(stmt)).scalars():
                offer.ended_at = max(ended, offer.answered_at or offer.ring_started_at)
                offer.outcome = "answered" if offer.answered_at is not None else "cancelled"
            return True

    async def import_fallback_call(
        self,
        *,
        call_id: str,
        channel_id: str,
        caller_number: str | None,
        caller_name: str | None,
        started_at: datetime,
        dialed: str | None = None,
        answered_at: datetime | None,
        ended_at: datetime,
        outcome: str,
        cause: str,
    ) -> bool:
        """A complete record for a call the controller never saw; False if the id or the channel already
        has a record (imported before, or the controller did see it)."""
        async with self._tx() as session:
            seen = await session.execute(
                select(CallRow.id)
                .where(or_(CallRow.id == call_id, CallRow.channel_id == channel_id))
                .limit(1)
            )
            if seen.scalar_one_or_none() is not None:
                return False
            session.add(
                CallRow(
                    id=call_id,
                    channel_id=channel_id,
                    caller_number=caller_number,
                    caller_name=caller_name,
                    dialed=dialed,
                    started_at=to_utc(started_at),
                    answered_at=None if answered_at is None else to_utc(answered_at),
                    ended_at=to_utc(ended_at),
                    outcome=outcome,
                    hangup_cause=cause[:128],
                )
            )
            await session.flush()
            return True


async def _last_nodes(session: AsyncSession, call_ids: list[str]) -> dict[str, str]:
    """Call id → the node it entered last (its newest path row), for the calls that have one."""
    found: dict[str, str] = {}
    for start in range(0, len(call_ids), 500):  # bounded IN lists
        chunk = call_ids[start : start + 500]
        newest = select(func.max(PathRow.id)).where(PathRow.call_id.in_(chunk)).group_by(PathRow.call_id)
        rows = await session.execute(select(PathRow.call_id, PathRow.node_id).where(PathRow.id.in_(newest)))
        found.update({call_id: node_id for call_id, node_id in rows})
    return found
