"""``hangup``: optionally say goodbye, then end the call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.commands import Command, OutcomeSet
from ivr.flows.commands import Hangup as HangupCmd
from ivr.flows.events import Event
from ivr.flows.promptspec import PromptText
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    PROMPT_SCHEMA,
    CheckEnv,
    Finish,
    RelPath,
    Result,
    Sink,
    Verb,
    VerbCtx,
    optional_text,
)

OUTCOMES = ["completed", "abandoned", "voicemail", "callback", "failed"]


class Hangup(Verb):
    type_name = "hangup"
    description = "Say an optional goodbye and hang up."
    schema: ClassVar[dict[str, Any]] = {"prompt": PROMPT_SCHEMA, "outcome": {"enum": OUTCOMES}}

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.prompt = self._prompt("prompt")
        self.outcome = optional_text(spec, "outcome")

    def start(self, ctx: VerbCtx) -> Result:
        if self.prompt is not None:
            return Result([ctx.play(ctx.render(self.prompt), barge_in=False)])
        return self._end()

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        return self._end() if ctx.is_my_playback(event) else Result()

    def _end(self) -> Result:
        cmds: list[Command] = []
        if self.outcome is not None:
            cmds.append(OutcomeSet(self.outcome))
        cmds.append(HangupCmd())
        return Result(cmds, Finish(hung_up=True))

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        return [(("prompt",), self.prompt)] if self.prompt else []

    def sinks(self) -> list[Sink]:
        return [Sink("hangup", "hang up")]
