"""The ACD's configuration as frozen values: agents, queues, departments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

STRATEGIES = ("longest-idle", "fewest-calls", "round-robin", "ring-all")
"""How a queue orders the free agents that may take a call."""

_EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class AgentConfig:
    id: str
    """SIP username and extension (digits)."""
    name: str
    secret: str
    skills: Mapping[str, int]
    """skill -> proficiency 1..5"""
    languages: tuple[str, ...]


@dataclass(frozen=True)
class RelaxRule:
    """Once a call has waited ``after_s`` (counted from its arrival, ringing included), widen the pool."""

    after_s: float
    min_proficiency: int | None = None
    any_language: bool = False


@dataclass(frozen=True)
class QueueConfig:
    name: str
    skill: str
    min_proficiency: int = 1
    priority: int = 0
    target_rings: int = 3
    max_wait_s: float = 300.0
    wrapup_s: float = 10.0
    ring_timeout_s: float = 15.0
    strategy: str = "longest-idle"
    announce_every_s: float = 30.0
    aht_estimate_s: float = 180.0
    relax: tuple[RelaxRule, ...] = ()
    display: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    record: bool = False
    """Record conversations with operators (ARI recording of the conversation's bridge)."""

    def target_s(self, ring_cycle_s: float) -> float:
        """The service target in seconds: rings x the site's ring cycle."""
        return self.target_rings * ring_cycle_s

    def display_name(self, lang: str) -> str:
        return self.display.get(lang, self.name)


@dataclass(frozen=True)
class Department:
    """A transfer target: a plain extension, or a queue."""

    name: str
    extension: str | None = None
    queue: str | None = None


@dataclass(frozen=True)
class AcdConfig:
    agents: tuple[AgentConfig, ...]
    queues: Mapping[str, QueueConfig]
    departments: Mapping[str, Department]

    def queue_names(self) -> frozenset[str]:
        return frozenset(self.queues)

    def department_extensions(self) -> dict[str, str]:
        """Department name -> extension, for departments that have one."""
        return {d.name: d.extension for d in self.departments.values() if d.extension is not None}

    def agent(self, agent_id: str) -> AgentConfig | None:
        for a in self.agents:
            if a.id == agent_id:
                return a
        return None
