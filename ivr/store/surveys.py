"""Survey answers: the satisfaction scores callers give after a call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from ivr.store.database import Database
from ivr.store.models import SurveyRow
from ivr.store.timeutil import iso_utc, to_utc


class Surveys(Database):
    async def survey_answered(
        self, call_id: str, score: int, at: datetime, question: str | None = None
    ) -> None:
        async with self._tx() as session:
            await self._call(session, call_id, at)
            session.add(SurveyRow(call_id=call_id, question=question, score=score, at=to_utc(at)))

    async def survey_results(self, call_id: str) -> list[dict[str, Any]]:
        async with self._session() as session:
            stmt = select(SurveyRow).where(SurveyRow.call_id == call_id).order_by(SurveyRow.id)
            return [
                {"question": r.question, "score": r.score, "at": iso_utc(r.at)}
                for r in (await session.execute(stmt)).scalars()
            ]
