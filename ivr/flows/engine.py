"""The flow engine: pure stepping of one call through a flow. No I/O, no clock reads.

``FlowEngine(flow).start(ctx)`` → ``Step(state, commands)``; then ``engine.step(state, event, now)`` for
every event the session feeds back. The state is plain data owned by the caller; the engine never
mutates the state it is given (it works on a copy). Flow and verb objects are shared and immutable.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ivr.flows.commands import Answer, Command, Hangup, NodeEntered, OutcomeSet, SetLanguage
from ivr.flows.events import DtmfReceived, Event
from ivr.flows.model import Flow
from ivr.flows.verbs.base import Enter, Finish, Go, Result, Stay, Transition, Verb, VerbCtx

MAX_HOPS = 64
"""Node changes within one step before the engine declares a runaway loop and ends the call."""

MAX_TYPEAHEAD = 32
"""Keys kept while a node that takes no input runs (an announcement); the next input node gets them."""


@dataclass(frozen=True)
class CallContext:
    call_id: str
    caller_number: str = ""
    caller_name: str | None = None
    dialed: str = ""
    lang: str | None = None
    now: datetime = field(default_factory=lambda: datetime(1970, 1, 1, tzinfo=UTC))
    vars: Mapping[str, str] = field(default_factory=dict)
    """Site settings as variables (e.g. ``services.orders``); override the flow's ``vars``."""


@dataclass
class CallState:
    call_id: str
    flow: str
    version: str
    lang: str
    frame: str  # the flow whose node is running (differs from ``flow`` inside a subflow)
    node: str | None = None
    stack: list[tuple[str, str | None]] = field(default_factory=list)
    vars: dict[str, str] = field(default_factory=dict)
    local: dict[str, Any] = field(default_factory=dict)  # the running node's own state
    sensitive_vars: list[str] = field(default_factory=list)
    counter: int = 0  # play/request ids
    entry_seq: int = 0  # node entries (scopes timer names)
    path: list[str] = field(default_factory=list)
    typeahead: str = ""  # keys pressed during nodes that take no input, for the next input node
    finished: bool = False
    outcome: str | None = None


@dataclass(frozen=True)
class Step:
    state: CallState
    commands: list[Command]


class FlowEngine:
    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    def _verb(self, state: CallState) -> Verb:
        assert state.node is not None
        return self.flow.flow_named(state.frame).nodes[state.node]

    def start(self, ctx: CallContext, *, at_node: str | None = None) -> Step:
        flow = self.flow
        lang = ctx.lang if ctx.lang in flow.languages else flow.default_language
        variables = {**flow.vars, **ctx.vars}
        variables.update(
            {
                "caller.number": ctx.caller_number,
                "caller.name": ctx.caller_name or "",
                "dialed": ctx.dialed,
                "lang": lang,
                "call.id": ctx.call_id,
            }
        )
        state = CallState(ctx.call_id, flow.name, flow.version, lang, flow.name, vars=variables)
        commands: list[Command] = [Answer(), SetLanguage(lang)]
        commands += self._run(state, Go(at_node or flow.entry), ctx.now)
        return Step(state, commands)

    def step(self, state: CallState, event: Event, now: datetime) -> Step:
        state = copy.deepcopy(state)
        if state.finished or state.node is None:
            return Step(state, [])
        verb = self._verb(state)
        if isinstance(event, DtmfReceived) and not verb.waits():
            # Type-ahead: callers who know the menu need not wait for the announcement to end.
            if len(state.typeahead) < MAX_TYPEAHEAD:
                state.typeahead += event.digit
            return Step(state, [])
        ctx = VerbCtx(state, state.node, now)
        result = verb.on_event(ctx, event)
        commands = list(result.commands)
        commands += self._run(state, result.transition, now)
        return Step(state, commands)

    def _run(self, state: CallState, transition: Transition, now: datetime) -> list[Command]:
        commands: list[Command] = []
        hops = 0
        while not isinstance(transition, Stay):
            hops += 1
            if hops > MAX_HOPS:
                return commands + self._end(state, "failed", hung_up=False)
            if state.node is not None:
                commands += self._verb(state).cancel(VerbCtx(state, state.node, now))
            if isinstance(transition, Enter):
                state.stack.append((state.frame, transition.return_to))
                state.frame = transition.flow
                target: str = self.flow.flow_named(transition.flow).entry
            elif isinstance(transition, Finish):
                if state.stack and not transition.hung_up:
                    frame, return_to = state.stack.pop()
                    state.frame = frame
                    if return_to is None:
                        state.node = None
                        transition = Finish(transition.outcome)
                        continue
                    target = return_to
                else:
                    return commands + self._end(state, transition.outcome, transition.hung_up)
            else:
                assert isinstance(transition, Go)
                target = transition.node
            state.node = target
            state.local = {}
            state.entry_seq += 1
            state.path.append(target if state.frame == state.flow else f"{state.frame}/{target}")
            commands.append(NodeEntered(state.path[-1]))
            verb = self._verb(state)
            result: Result = verb.start(VerbCtx(state, target, now))
            commands += result.commands
            transition = result.transition
            if isinstance(transition, Stay) and state.typeahead and verb.waits():
                transition = self._replay_typeahead(state, verb, now, commands)
        return commands

    def _replay_typeahead(
        self, state: CallState, verb: Verb, now: datetime, commands: list[Command]
    ) -> Transition:
        """Feed keys typed ahead to the input node that just started, until one moves the call on."""
        while state.typeahead:
            digit, state.typeahead = state.typeahead[0], state.typeahead[1:]
            assert state.node is not None
            result = verb.on_event(VerbCtx(state, state.node, now), DtmfReceived(digit))
            commands += result.commands
            if not isinstance(result.transition, Stay):
                return result.transition
        return Stay()

    def _end(self, state: CallState, outcome: str | None, hung_up: bool) -> list[Command]:
        state.finished = True
        state.node = None
        commands: list[Command] = []
        if outcome is not None:
            state.outcome = outcome
            commands.append(OutcomeSet(outcome))
        if not hung_up:
            commands.append(Hangup())
        return commands
