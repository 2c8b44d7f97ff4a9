"""Small builders for ACD configs and times used by the ACD tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from acd.model import AcdConfig, AgentConfig, Department, QueueConfig, RelaxRule

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
