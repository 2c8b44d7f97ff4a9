from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from ivr.flows import commands as c
from ivr.flows.events import LookupDone
from ivr.flows.loader import SHIPPED_DIR, load_paths
from ivr.flows.model import Flow
from ivr.flows.simulate import Simulator, split_inputs

OPEN = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)  # Monday 12:00 in Tokyo
CLOSED = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)  # Monday 21:00 in Tokyo
HOLIDAY = datetime(2025, 1, 1, 3, 0, tzinfo=UTC)  # New Year's Day, 12:00 in Tokyo

ORDER = {"number": "4271", "status": "shipped", "status_text": {"ja": "はっそう ずみです", "en": "shipped"}}


def ok_lookup(cmd: c.HttpLookup) -> LookupDone:
    return LookupDone(cmd.request_id, True, 200, ORDER)


def not_found_lookup(cmd: c.HttpLookup) -> LookupDone:
    return LookupDone(cmd.request_id, False, 404, None, "HTTP 404")


def down_lookup(cmd: c.HttpLookup) -> LookupDone:
    return LookupDone(cmd.request_id, False, None, None, "connection refused")


@pytest.fixture(scope="session")
def flows() -> dict[str, Flow]:
    result = load_paths([SHIPPED_DIR])
    assert result.errors == []
    return result.flows


class Run:
    def __init__(self, sim: Simulator, lines: list[str]) -> None:
        self.sim = sim
        self.lines = lines
        assert sim.state is not None
        self.state = sim.state
        self.commands = sim.commands

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [x for x in self.commands if isinstance(x, kind)]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def run(flows: dict[str, Flow]) -> Callable[..., Run]:
    def _run(
        inputs: str,
        *,
        flow: str = "shop",
        now: datetime = OPEN,
        lookup: Callable[[c.HttpLookup], LookupDone] = ok_lookup,
        queue_outcome: str = "no_agents",
        lang: str | None = None,
    ) -> Run:
        lines: list[str] = []
        sim = Simulator(
            flows[flow], now=now, lookup=lookup, queue_outcome=queue_outcome, out=lines.append, lang=lang
        )
        sim.run(iter(split_inputs(inputs)))
        return Run(sim, lines)

    return _run
