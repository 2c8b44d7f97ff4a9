"""``say``: play text (per language) or a recorded file, optionally followed by digits read back."""

from __future__ import annotations

from typing import Any, ClassVar

from ivr.flows.events import Event
from ivr.flows.prompts import Digits
from ivr.flows.promptspec import PromptText, render_template
from ivr.flows.verbs.base import NODE_REF, PROMPT_SCHEMA, CheckEnv, Edge, RelPath, Result, Verb, VerbCtx


class Say(Verb):
    type_name = "say"
    description = "Play a prompt, then go to `next` (or finish)."
    schema: ClassVar[dict[str, Any]] = {
        "prompt": PROMPT_SCHEMA,
        "digits": {"type": "string", "description": "template read back digit by digit after the prompt"},
        "barge_in": {"type": "boolean"},
        "next": NODE_REF,
    }
    required = ()

    def start(self, ctx: VerbCtx) -> Result:
        prompts = ctx.render(self._prompt("prompt")) if "prompt" in self.spec else ()
        if "digits" in self.spec:
            prompts += (Digits(render_template(str(self.spec["digits"]), ctx.vars), ctx.lang),)
        return Result([ctx.play(prompts, barge_in=bool(self.spec.get("barge_in", False)))])

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        return Result(transition=self._next()) if ctx.is_my_playback(event) else Result()

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        p = self._prompt("prompt")
        return [(("prompt",), p)] if p else []

    def template_fields(self) -> list[tuple[RelPath, str]]:
        extra = [(("digits",), str(self.spec["digits"]))] if "digits" in self.spec else []
        return super().template_fields() + extra

    def targets(self) -> list[Edge]:
        return self._edge("next", "next")

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        if "prompt" not in self.spec and "digits" not in self.spec:
            return [((), "a say node needs `prompt`, `digits` or both")]
        return []
