"""Small builders for ACD configs and times used by the ACD tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from acd.model import AcdConfig, AgentConfig, Department, QueueConfig, RelaxRule
from ivr.store.report_rows import ReportRow

T0 = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def agent(agent_id: str, skills: dict[str, int], languages: tuple[str, ...] = ("ja", "en")) -> AgentConfig:
    return AgentConfig(
        agent_id, f"Agent {agent_id}", f"pw-{agent_id}-secret", MappingProxyType(skills), languages
    )


def queue(name: str, **kw: Any) -> QueueConfig:
    kw.setdefault("skill", name)
    kw.setdefault("announce_every_s", 0.0)
    relax = tuple(RelaxRule(*r) if isinstance(r, tuple) else r for r in kw.pop("relax", ()))
    return QueueConfig(name, relax=relax, **kw)


def config(agents: list[AgentConfig], queues: list[QueueConfig]) -> AcdConfig:
    return AcdConfig(
        tuple(agents),
        MappingProxyType({q.name: q for q in queues}),
        MappingProxyType({"warehouse": Department("warehouse", "2001")}),
    )


def report_row(call_id: str = "c1", *, clock: Callable[[float], datetime] = at, **kw: Any) -> ReportRow:
    """A completed call of the orders queue, answered by nobody yet; ``kw`` overrides any field."""
    values: dict[str, Any] = {
        "id": call_id,
        "started_at": clock(0),
        "answered_at": clock(0.5),
        "ended_at": clock(300),
        "queue": "orders",
        "queued_at": clock(10),
        "agent": None,
        "outcome": "completed",
        "offers": (),
        "survey_score": None,
        "callback_status": None,
    }
    values.update(kw)
    return ReportRow(**values)
