"""The reads behind the service report: every call started in a window with its offers, its first
survey score and its callback request, in a few queries (``IN`` over chunks of call ids).

Plain frozen dataclasses: the ACD turns them into its own facts (``acd/report_source.py``); the store
knows nothing of the ACD.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ivr.store.database import Database
from ivr.store.models import CallbackRow, CallRow, OfferRow, SurveyRow
from ivr.store.timeutil import to_utc

ID_CHUNK = 500
"""Call ids per ``IN (…)``: well under SQLite's bound-parameter limit."""


@dataclass(frozen=True)
class ReportOffer:
    """One ring of an agent's phone for the call (the ``offers`` table)."""

    agent: str
    ring_started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: str | None


@dataclass(frozen=True)
class ReportRow:
    """One call as the report needs it. Times are timezone-aware UTC."""

    id: str
    started_at: datetime
    answered_at: datetime | None
    """When the IVR picked up."""
    ended_at: datetime | None
    queue: str | None
    queued_at: datetime | None
    agent: str | None
    outcome: str | None
    offers: tuple[ReportOffer, ...]
    """In the order they were made."""
    survey_score: int | None
    """The call's first survey answer, or None."""
    callback_status: str | None
    """Status of the call's newest callback request (pending | done | failed | cancelled); None: none."""
    caller_number: str | None = None
    """As stored (the same value ``/api/calls`` shows)."""

    @property
    def has_callback(self) -> bool:
        return self.callback_status is not None


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), ID_CHUNK):
        yield list(ids[start : start + ID_CHUNK])


class ReportRows(Database):
    async def report_rows(self, since: datetime | None, until: datetime | None) -> list[ReportRow]:
        """Calls started in [since, until) (either bound None: open), oldest first."""
        async with self._session() as session:
            stmt = select(CallRow).order_by(CallRow.started_at, CallRow.id)
            if since is not None:
                stmt = stmt.where(CallRow.started_at >= to_utc(since))
            if until is not None:
                stmt = stmt.where(CallRow.started_at < to_utc(until))
            calls = list((await session.execute(stmt)).scalars())
            offers: dict[str, list[ReportOffer]] = {}
            scores: dict[str, int] = {}
            callbacks: dict[str, str] = {}
            for ids in _chunks([c.id for c in calls]):
                offer_rows = select(OfferRow).where(OfferRow.call_id.in_(ids)).order_by(OfferRow.id)
                for o in (await session.execute(offer_rows)).scalars():
                    offers.setdefault(o.call_id, []).append(
                        ReportOffer(o.agent, o.ring_started_at, o.answered_at, o.ended_at, o.outcome)
                    )
                survey_rows = (
                    select(SurveyRow.call_id, SurveyRow.score)
                    .where(SurveyRow.call_id.in_(ids))
                    .order_by(SurveyRow.id)
                )
                for call_id, score in (await session.execute(survey_rows)).all():
                    scores.setdefault(call_id, score)
                callback_rows = (
                    select(CallbackRow.call_id, CallbackRow.status)
                    .where(CallbackRow.call_id.in_(ids))
                    .order_by(CallbackRow.id)
                )
                for cb_call_id, status in (await session.execute(callback_rows)).all():
                    if cb_call_id is not None:
                        callbacks[cb_call_id] = status  # the newest wins
        return [
            ReportRow(
                id=c.id,
                started_at=c.started_at,
                answered_at=c.answered_at,
                ended_at=c.ended_at,
                queue=c.queue,
                queued_at=c.queued_at,
                agent=c.agent,
                outcome=c.outcome,
                offers=tuple(offers.get(c.id, ())),
                survey_score=scores.get(c.id),
                callback_status=callbacks.get(c.id),
                caller_number=c.caller_number,
            )
            for c in calls
        ]
