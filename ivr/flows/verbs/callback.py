"""``callback``: record a callback request (number and preferred time, chosen by key or voice)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.commands import CallbackRequested, OutcomeSet
from ivr.flows.events import Event
from ivr.flows.promptspec import parse_words, render_template
from ivr.flows.verbs._choice import CHOICE_SCHEMA, ChoiceVerb, Option
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    NODE_REF,
    WORDS_SCHEMA,
    CheckEnv,
    Edge,
    RelPath,
    Result,
    Sink,
    VerbCtx,
    optional_text,
)


class Callback(ChoiceVerb):
    type_name = "callback"
    description = "Ask for a preferred time (`times`), record a callback request, then `next`."
    schema: ClassVar[dict[str, Any]] = {
        **CHOICE_SCHEMA,
        "number": {"type": "string", "description": "template; default {caller.number}"},
        "times": {
            "type": "object",
            "propertyNames": {"pattern": "^[0-9*#]$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["value"],
                "properties": {"value": {"type": "string"}, "words": WORDS_SCHEMA},
            },
        },
        "note": {"type": "string"},
        "next": NODE_REF,
    }
    required = ("prompt",)
    default_retries = 1

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.choices = tuple(
            Option(str(k), parse_words(t.get("words")), str(t["value"]))
            for k, t in spec.get("times", {}).items()
        )
        self.number = str(spec.get("number", "{caller.number}"))
        """Template of the number to call back."""
        self.note = optional_text(spec, "note")

    def waits(self) -> bool:
        return bool(self.choices)

    def _request(self, ctx: VerbCtx, preferred: str | None) -> Result:
        number = render_template(self.number, ctx.vars)
        return Result(
            [CallbackRequested(number, preferred, self.note), OutcomeSet("callback")],
            self._next(),
        )

    def start(self, ctx: VerbCtx) -> Result:
        if not self.choices:  # nothing to ask: just say the prompt and record
            ctx.local["plain"] = True
            return Result([ctx.play(ctx.render(self.prompt), barge_in=False)])
        return super().start(ctx)

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.local.get("plain"):
            return self._request(ctx, None) if ctx.is_my_playback(event) else Result()
        return super().on_event(ctx, event)

    def on_choice(self, ctx: VerbCtx, option: Option) -> Result:
        return self._request(ctx, option.value)

    def on_failure(self, ctx: VerbCtx) -> Result:
        return self._request(ctx, None)

    def template_fields(self) -> list[tuple[RelPath, str]]:
        return [*super().template_fields(), (("number",), self.number)]

    def targets(self) -> list[Edge]:
        return self._edge("next", "next")

    def sinks(self) -> list[Sink]:
        return [] if self.next_node is not None else [Sink("callback", "callback request")]
