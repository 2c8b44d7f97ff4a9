"""Agent states: every change is appended; the latest per agent restores the ACD after a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from ivr.store.database import Database
from ivr.store.models import AgentStateRow
from ivr.store.timeutil import to_utc


@dataclass(frozen=True)
class AgentStateRecord:
    agent: str
    state: str
    reason: str | None
    call_id: str | None
    at: datetime


class AgentStates(Database):
    async def agent_state_changed(
        self, agent: str, state: str, reason: str | None, call_id: str | None, at: datetime
    ) -> None:
        async with self._tx() as session:
            session.add(
                AgentStateRow(agent=agent, state=state, reason=reason, call_id=call_id, at=to_utc(at))
            )

    async def latest_agent_states(self) -> list[AgentStateRecord]:
        """Each agent's last recorded state."""
        async with self._session() as session:
            last = select(func.max(AgentStateRow.id)).group_by(AgentStateRow.agent).scalar_subquery()
            rows = (await session.execute(select(AgentStateRow).where(AgentStateRow.id.in_(last)))).scalars()
            return [_record(r) for r in rows]

    async def agent_state_log(self, since: datetime | None, until: datetime | None) -> list[AgentStateRecord]:
        """State changes in [since, until), plus each agent's last change before ``since`` (the state it
        was in when the window opened), oldest first."""
        async with self._session() as session:
            stmt = select(AgentStateRow).order_by(AgentStateRow.id)
            if until is not None:
                stmt = stmt.where(AgentStateRow.at < to_utc(until))
            rows = list((await session.execute(stmt)).scalars())
        if since is None:
            return [_record(r) for r in rows]
        start = to_utc(since)
        before: dict[str, AgentStateRow] = {}
        inside: list[AgentStateRow] = []
        for r in rows:
            if r.at < start:
                before[r.agent] = r
            else:
                inside.append(r)
        return [_record(r) for r in [*before.values(), *inside]]


def _record(r: AgentStateRow) -> AgentStateRecord:
    return AgentStateRecord(r.agent, r.state, r.reason, r.call_id, r.at)
