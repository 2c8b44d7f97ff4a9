"""Drive one call through a small inline flow with the public engine API (events in, commands out)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from datetime import UTC, datetime

from ivr.flows import commands as c
from ivr.flows.engine import CallContext, CallState, FlowEngine
from ivr.flows.events import DtmfReceived, Event, PlaybackDone, SpeechRecognized, TimerFired
from ivr.flows.loader import link, load_text
from ivr.flows.model import Flow

NOW = datetime(2025, 6, 2, 3, 0, tzinfo=UTC)


def load(text: str, *others: str) -> Flow:
    """The first flow of ``text`` (YAML), linked with ``others`` (flows it may enter as subflows)."""
    flows: dict[str, Flow] = {}
    for i, each in enumerate((text, *others)):
        flow, errors = load_text(textwrap.dedent(each), f"flow{i}.yaml")
        assert flow is not None and errors == [], [str(e) for e in errors]
        flows[flow.name] = flow
    linked, link_errors = link(flows)
    assert link_errors == [], [str(e) for e in link_errors]
    return linked[next(iter(flows))]


def errors_of(text: str) -> list[str]:
    """The load errors of one flow text, as ``node_path: message`` lines."""
    _, errors = load_text(textwrap.dedent(text), "flow.yaml")
    return [f"{e.node_path}: {e.message}" for e in errors]


def kinds(commands: list[c.Command]) -> list[str]:
    return [type(x).__name__ for x in commands]


class Call:
    """One call: ``start`` then ``send`` events; every command is kept in ``log`` and ``last``."""

    def __init__(
        self,
        flow: Flow,
        *,
        lang: str | None = None,
        caller: str = "0312345678",
        dialed: str = "100",
        site_vars: Mapping[str, str] | None = None,
    ) -> None:
        self.engine = FlowEngine(flow)
        step = self.engine.start(
            CallContext("c1", caller_number=caller, dialed=dialed, lang=lang, now=NOW, vars=site_vars or {})
        )
        self.state: CallState = step.state
        self.last: list[c.Command] = step.commands
        self.log: list[c.Command] = list(step.commands)

    def send(self, event: Event) -> list[c.Command]:
        step = self.engine.step(self.state, event, NOW)
        self.state, self.last = step.state, step.commands
        self.log += step.commands
        return step.commands

    def playing(self) -> c.Play:
        """The newest Play command."""
        plays = [x for x in self.log if isinstance(x, c.Play)]
        assert plays, "nothing was played"
        return plays[-1]

    def prompt_ends(self) -> list[c.Command]:
        return self.send(PlaybackDone(self.playing().play_id))

    def press(self, keys: str) -> list[c.Command]:
        out: list[c.Command] = []
        for key in keys:
            out += self.send(DtmfReceived(key))
        return out

    def say(self, text: str, lang: str = "en") -> list[c.Command]:
        return self.send(SpeechRecognized(text, 0.9, lang))

    def timer(self, suffix: str) -> list[c.Command]:
        """Fire the newest timer whose name ends with ``suffix`` (``":first"``, ``":input"``)."""
        names = [x.name for x in self.log if isinstance(x, c.StartTimer) and x.name.endswith(suffix)]
        assert names, f"no timer *{suffix} was started"
        return self.send(TimerFired(names[-1]))

    def of(self, kind: type) -> list:  # type: ignore[type-arg]
        return [x for x in self.log if isinstance(x, kind)]

    @property
    def path(self) -> list[str]:
        return self.state.path
