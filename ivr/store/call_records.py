"""A call's own record: start, answer, path, inputs, queue, end; and the reads behind ``/api/calls``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.database import Database
from ivr.store.models import CallRow, InputRow, OfferRow, PathRow, SurveyRow
from ivr.store.recordings import recordings_of_calls
from ivr.store.shape import call_dict
from ivr.store.timeutil import to_utc

_Row = TypeVar("_Row", PathRow, InputRow, OfferRow, SurveyRow)

INPUT_KINDS = ("dtmf", "speech")


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
    queued_at: datetime | None = None
    """When the caller entered ``queue`` (a resumed caller keeps its place in line)."""
    agent: str | None = None
    """The operator the caller was put through to, if any."""


def open_call(call: CallRow, channel_id: str, last_node: str | None) -> OpenCall:
    """The open call a row describes, for adoption and for closing crash-left records alike."""
    return OpenCall(
        id=call.id,
        channel_id=channel_id,
        flow=call.flow,
        last_node=last_node,
        started_at=call.started_at,
        answered_at=call.answered_at,
        caller_number=call.caller_number,
        caller_name=call.caller_name,
        dialed=call.dialed,
        queue=call.queue,
        queued_at=call.queued_at,
        agent=call.agent,
    )


class CallRecords(Database):
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
        await self._update_call(call_id, at, where_null=("answered_at",), answered_at=to_utc(at))

    async def node_entered(self, call_id: str, node_id: str, at: datetime) -> None:
        await self._add_row(
            call_id, at, "call_path", {"call_id": call_id, "node_id": node_id, "at": to_utc(at)}
        )

    async def input_taken(
        self, call_id: str, node_id: str, kind: str, value: str, sensitive: bool, at: datetime
    ) -> None:
        """Record an input (``kind`` is normally one of ``INPUT_KINDS``; others are kept as given).

        ``value`` is stored as given: the session masks sensitive values before calling."""
        await self._add_row(
            call_id,
            at,
            "call_inputs",
            {
                "call_id": call_id,
                "node_id": node_id,
                "kind": kind,
                "value": value,
                "sensitive": sensitive,
                "at": to_utc(at),
            },
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
            return open_call(call, channel_id, (await session.execute(last)).scalar_one_or_none())

    async def _shape(self, session: AsyncSession, calls: Sequence[CallRow]) -> list[dict[str, Any]]:
        ids = [c.id for c in calls]
        if not ids:
            return []
        paths = await self._children(session, PathRow, ids)
        inputs = await self._children(session, InputRow, ids)
        offers = await self._children(session, OfferRow, ids)
        surveys = await self._children(session, SurveyRow, ids)
        recordings = await recordings_of_calls(session, ids)
        return [
            {
                **call_dict(c, paths[c.id], inputs[c.id], offers[c.id], self.ring_cycle_s, surveys[c.id]),
                "recordings": recordings.get(c.id, []),
            }
            for c in calls
        ]

    @staticmethod
    async def _children(session: AsyncSession, model: type[_Row], ids: list[str]) -> dict[str, list[_Row]]:
        grouped: dict[str, list[_Row]] = defaultdict(list)
        stmt = select(model).where(model.call_id.in_(ids)).order_by(model.id)
        for row in (await session.execute(stmt)).scalars():
            grouped[row.call_id].append(row)
        return grouped
