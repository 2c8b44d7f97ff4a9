"""The flow engine: pure stepping of one call through a flow. No I/O, no clock reads.

``FlowEngine(flow).start(ctx)`` → ``Step(state, commands)``; then ``engine.step(state, event, now)`` for
every event the session feeds back. The state is plain data owned by the caller; the engine never
mutates the state it is given (it works on ``state.fork()``, a copy of its containers). Flow and verb
objects are shared and immutable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.flows.commands import Answer, Command, Hangup, NodeEntered, OutcomeSet, SetLanguage, StopPlayback
from ivr.flows.events import DtmfReceived, Event
from ivr.flows.model import Flow
from ivr.flows.state import CallContext, CallState
from ivr.flows.verbs.base import Enter, Finish, Go, Result, Stay, Transition, Verb, VerbCtx

__all__ = ["CallContext", "CallState", "FlowEngine", "Step"]

MAX_HOPS = 64
"""Node changes within one step before the engine declares a runaway loop and ends the call."""

MAX_TYPEAHEAD = 32
"""Keys kept while a node that takes no input runs (an announcement); the next input node gets them."""


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
        state = state.fork()
        if state.finished or state.node is None:
            return Step(state, [])
        verb = self._verb(state)
        if isinstance(event, DtmfReceived) and not verb.waits():
            # Type-ahead: callers who know the menu need not wait for the announcement to end. A
            # prompt that allows barge-in stops (its PlaybackDone then moves the call on).
            if len(state.typeahead) < MAX_TYPEAHEAD:
                state.typeahead += event.digit
            return Step(state, self._barge_in(state))
        ctx = VerbCtx(state, state.node, now)
        result = verb.on_event(ctx, event)
        commands = list(result.commands)
        _note_outcome(state, commands)
        commands += self._run(state, result.transition, now)
        return Step(state, commands)

    @staticmethod
    def _barge_in(state: CallState) -> list[Command]:
        play_id = state.local.get("play")
        if play_id is None or not state.local.get("play_barge_in") or state.local.get("play_stopping"):
            return []
        state.local["play_stopping"] = True
        return [StopPlayback(play_id)]

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
            _note_outcome(state, result.commands)
            transition = result.transition
            if isinstance(transition, Stay) and state.typeahead and verb.waits():
                transition = self._replay_typeahead(state, verb, now, commands)
        return commands

    def _replay_typeahead(
        self, state: CallState, verb: Verb, now: datetime, commands: list[Command]
    ) -> Transition:
        """Feed keys typed ahead to the input node that just started, each once, until one moves the call
        on. Keys the node hands back (``keep_typeahead``) and the keys not yet fed stay, in order."""
        keys, state.typeahead = state.typeahead, ""
        for i, digit in enumerate(keys):
            assert state.node is not None
            result = verb.on_event(VerbCtx(state, state.node, now), DtmfReceived(digit))
            commands += result.commands
            _note_outcome(state, result.commands)
            if not isinstance(result.transition, Stay):
                state.typeahead += keys[i + 1 :]
                return result.transition
        return Stay()

    def _end(self, state: CallState, outcome: str | None, hung_up: bool) -> list[Command]:
        state.finished = True
        state.node = None
        commands: list[Command] = []
        if outcome is not None and outcome != state.outcome:
            state.outcome = outcome
            commands.append(OutcomeSet(outcome))
        if not hung_up:
            commands.append(Hangup())
        return commands


def _note_outcome(state: CallState, commands: list[Command]) -> None:
    """The engine owns the call's outcome: the last ``OutcomeSet`` a verb emitted is the state's."""
    for command in commands:
        if isinstance(command, OutcomeSet):
            state.outcome = command.outcome
