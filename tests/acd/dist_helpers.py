"""A thin driver around ``Distributor`` for scenario tests: feed events, pick commands by type."""

from __future__ import annotations

from typing import TypeVar

from acd.agents import AgentState
from acd.distributor import Distributor
from acd.events import AcdCommand, AcdEvent, AgentChanged, AgentRequest, CallQueued, RingAgent, Tick
from acd.model import AcdConfig
from tests.acd.builders import at

C = TypeVar("C")


class Driver:
    def __init__(self, config: AcdConfig, **kw: object) -> None:
        self.d = Distributor(config, **kw)  # type: ignore[arg-type]
        self.log: list[AcdCommand] = []

    def send(self, event: AcdEvent, t: float) -> list[AcdCommand]:
        out = self.d.handle(event, at(t))
        self.log += out
        return out

    def tick(self, t: float) -> list[AcdCommand]:
        return self.send(Tick(), t)

    def login(self, *agent_ids: str, t: float = 0) -> None:
        for a in agent_ids:
            self.send(AgentRequest(a, "available"), t)

    def queue(
        self, call_id: str, q: str, t: float, lang: str | None = "ja", **kw: object
    ) -> list[AcdCommand]:
        return self.send(CallQueued(call_id, q, 0, lang, at(t), **kw), t)  # type: ignore[arg-type]

    def state(self, agent_id: str) -> AgentState:
        return self.d.agent(agent_id).state


def of(commands: list[AcdCommand], kind: type[C]) -> list[C]:
    return [c for c in commands if isinstance(c, kind)]


def rings(commands: list[AcdCommand]) -> list[tuple[str, str]]:
    return [(r.call_id, r.agent_id) for r in of(commands, RingAgent)]


def changes(commands: list[AcdCommand]) -> list[tuple[str, str, str | None]]:
    return [(c.status.id, c.status.state.value, c.status.reason) for c in of(commands, AgentChanged)]
