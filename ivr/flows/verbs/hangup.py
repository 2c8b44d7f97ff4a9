"""``hangup``: optionally say goodbye, then end the call."""

from __future__ import annotations

from typing import Any, ClassVar

from ivr.flows.commands import Command, OutcomeSet
from ivr.flows.commands import Hangup as HangupCmd
from ivr.flows.events import Event
from ivr.flows.promptspec import PromptText
from ivr.flows.verbs.base import PROMPT_SCHEMA, Finish, RelPath, Result, Sink, Verb, VerbCtx

OUTCOMES = ["completed", "abandoned", "voicemail", "callback", "failed"]


class Hangup(Verb):
    type_name = "hangup"
    description = "Say an optional goodbye and hang up."
    schema: ClassVar[dict[str, Any]] = {"prompt": PROMPT_SCHEMA, "outcome": {"enum": OUTCOMES}}

    def start(self, ctx: VerbCtx) -> Result:
        if "prompt" in self.spec:
            return Result([ctx.play(ctx.render(self._prompt("prompt")), barge_in=False)])
        return self._end()

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        return self._end() if ctx.is_my_playback(event) else Result()

    def _end(self) -> Result:
        cmds: list[Command] = []
        if "outcome" in self.spec:
            cmds.append(OutcomeSet(str(self.spec["outcome"])))
        cmds.append(HangupCmd())
        return Result(cmds, Finish(hung_up=True))

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        p = self._prompt("prompt")
        return [(("prompt",), p)] if p else []

    def sinks(self) -> list[Sink]:
        return [Sink("hangup", "hang up")]
