"""``say``: play text (per language) or a recorded file, optionally followed by digits read back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.events import Event
from ivr.flows.promptspec import PromptText, render_template
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    NODE_REF,
    PROMPT_SCHEMA,
    CheckEnv,
    Edge,
    RelPath,
    Result,
    Verb,
    VerbCtx,
    optional_text,
)
from ivr.prompts import Digits


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

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.prompt = self._prompt("prompt")
        self.digits = optional_text(spec, "digits")
        """Template of the digits read back after the prompt."""
        self.barge_in = bool(spec.get("barge_in", False))

    def start(self, ctx: VerbCtx) -> Result:
        prompts = ctx.render(self.prompt)
        if self.digits is not None:
            prompts += (Digits(render_template(self.digits, ctx.vars), ctx.lang),)
        return Result([ctx.play(prompts, barge_in=self.barge_in)])

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        return Result(transition=self._next()) if ctx.is_my_playback(event) else Result()

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        return [(("prompt",), self.prompt)] if self.prompt else []

    def template_fields(self) -> list[tuple[RelPath, str]]:
        extra = [(("digits",), self.digits)] if self.digits is not None else []
        return super().template_fields() + extra

    def targets(self) -> list[Edge]:
        return self._edge("next", "next")

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        if self.prompt is None and self.digits is None:
            return [((), "a say node needs `prompt`, `digits` or both")]
        return []
