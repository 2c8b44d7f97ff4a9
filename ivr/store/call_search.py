"""Finding calls: ``/api/calls`` with filters (caller number, period, queue, agent, outcome, flow).

The rows come back in the ``/api/calls`` shape through ``CallRecords``' own shaping, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ivr.store.call_records import CallRecords
from ivr.store.models import CallRow, OfferRow
from ivr.store.timeutil import to_utc

LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class CallFilter:
    """What to look for; every field None means "any". Times are timezone-aware."""

    number: str | None = None
    """A substring of the caller's number (matched literally: ``%`` and ``_`` are not wildcards)."""
    since: datetime | None = None
    """Calls that started at or after this time."""
    until: datetime | None = None
    """Calls that started before this time."""
    queue: str | None = None
    agent: str | None = None
    """The agent who answered the call, or any agent whose phone was rung for it."""
    outcome: str | None = None
    flow: str | None = None


def _literal_like(text: str) -> str:
    for char in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(char, LIKE_ESCAPE + char)
    return f"%{text}%"


def _conditions(f: CallFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if f.number is not None:
        conditions.append(CallRow.caller_number.like(_literal_like(f.number), escape=LIKE_ESCAPE))
    if f.since is not None:
        conditions.append(CallRow.started_at >= to_utc(f.since))
    if f.until is not None:
        conditions.append(CallRow.started_at < to_utc(f.until))
    if f.queue is not None:
        conditions.append(CallRow.queue == f.queue)
    if f.agent is not None:
        rung = exists().where(OfferRow.call_id == CallRow.id, OfferRow.agent == f.agent)
        conditions.append(or_(CallRow.agent == f.agent, rung))
    if f.outcome is not None:
        conditions.append(CallRow.outcome == f.outcome)
    if f.flow is not None:
        conditions.append(CallRow.flow == f.flow)
    return conditions


class CallSearch(CallRecords):
    async def search_calls(
        self,
        *,
        number: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        queue: str | None = None,
        agent: str | None = None,
        outcome: str | None = None,
        flow: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Calls matching every given criterion (see ``CallFilter``), newest first, in the
        ``/api/calls`` shape. With no criterion this is ``list_calls(limit)``."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        criteria = CallFilter(number, since, until, queue, agent, outcome, flow)
        async with self._session() as session:
            stmt = (
                select(CallRow)
                .where(*_conditions(criteria))
                .order_by(CallRow.started_at.desc(), CallRow.id.desc())
                .limit(limit)
            )
            calls = list((await session.execute(stmt)).scalars())
            return await self._shape(session, calls)
