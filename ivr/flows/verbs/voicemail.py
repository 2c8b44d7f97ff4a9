"""``voicemail``: play a prompt, record the caller's message, then `next` (or finish)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.commands import OutcomeSet, RecordMessage
from ivr.flows.events import Event, RecordingDone
from ivr.flows.promptspec import PromptText
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    NODE_REF,
    PROMPT_SCHEMA,
    SECONDS,
    CheckEnv,
    Edge,
    RelPath,
    Result,
    Sink,
    Verb,
    VerbCtx,
)


class Voicemail(Verb):
    type_name = "voicemail"
    description = "Record a message (after `prompt` and a beep), then `next`."
    schema: ClassVar[dict[str, Any]] = {
        "prompt": PROMPT_SCHEMA,
        "max_seconds": SECONDS,
        "beep": {"type": "boolean"},
        "next": NODE_REF,
    }
    required = ("prompt",)

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.prompt = self._prompt("prompt")
        self.max_seconds = float(spec.get("max_seconds", 120))
        self.beep = bool(spec.get("beep", True))

    def start(self, ctx: VerbCtx) -> Result:
        return Result([ctx.play(ctx.render(self.prompt), barge_in=False)])

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.is_my_playback(event):
            name = f"voicemail-{ctx.next_id('')}"  # the session files it as <call id>-voicemail-N
            ctx.local["recording"] = name
            return Result([RecordMessage(name, self.max_seconds, self.beep)])
        if isinstance(event, RecordingDone) and event.name == ctx.local.get("recording"):
            ctx.local["recording"] = None
            ctx.vars["voicemail.name"] = event.name
            cmds = [OutcomeSet("voicemail")] if event.ok else []
            return Result(list(cmds), self._next())
        return Result()

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        return [(("prompt",), self.prompt)] if self.prompt else []

    def defined_vars(self) -> set[str]:
        return {"voicemail.name"}

    def targets(self) -> list[Edge]:
        return self._edge("next", "next")

    def sinks(self) -> list[Sink]:
        return [Sink("voicemail", "voicemail")]
