"""``confirm``: read back a collected value digit by digit, then yes/no by key or by voice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.commands import InputTaken
from ivr.flows.events import DtmfReceived, Event
from ivr.flows.promptspec import PromptText, parse_words
from ivr.flows.speech_rules import NO_WORDS, YES_WORDS
from ivr.flows.verbs._choice import CHOICE_SCHEMA, ChoiceVerb, Option
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    NODE_REF,
    PROMPT_SCHEMA,
    WORDS_SCHEMA,
    CheckEnv,
    Edge,
    Finish,
    Go,
    RelPath,
    Result,
    VerbCtx,
)
from ivr.prompts import Digits, Prompt

DEFAULT_YES = YES_WORDS
DEFAULT_NO = NO_WORDS


class Confirm(ChoiceVerb):
    type_name = "confirm"
    description = "Read back `var` digit by digit, then ask yes (key 1) / no (key 2)."
    schema: ClassVar[dict[str, Any]] = {
        **CHOICE_SCHEMA,
        "var": {"type": "string", "description": "the variable to read back"},
        "question": PROMPT_SCHEMA,
        "yes": NODE_REF,
        "no": NODE_REF,
        "yes_key": {"type": "string", "pattern": "^[0-9*#]$"},
        "no_key": {"type": "string", "pattern": "^[0-9*#]$"},
        "yes_words": WORDS_SCHEMA,
        "no_words": WORDS_SCHEMA,
        "default": {**NODE_REF, "description": "after the last failed try (else `no`)"},
    }
    required = ("var", "yes", "no")

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        yes = parse_words(spec["yes_words"]) if "yes_words" in spec else DEFAULT_YES
        no = parse_words(spec["no_words"]) if "no_words" in spec else DEFAULT_NO
        self.choices = (
            Option(str(spec.get("yes_key", "1")), dict(yes), "yes"),
            Option(str(spec.get("no_key", "2")), dict(no), "no"),
        )
        self.var = str(spec["var"])
        self.question = self._prompt("question")
        self.answer_nodes = {"yes": str(spec["yes"]), "no": str(spec["no"])}
        self.fallback_node = str(spec.get("default", spec["no"]))
        """Where the call goes after the last failed try: ``default``, else ``no``."""

    def intro(self, ctx: VerbCtx) -> tuple[Prompt, ...]:
        value = ctx.vars.get(self.var, "")
        return (*ctx.render(self.prompt), Digits(value, ctx.lang), *ctx.render(self.question))

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        res = super().on_event(ctx, event)
        if isinstance(event, DtmfReceived):  # a yes/no key is not sensitive even when the value is
            res.commands = [
                InputTaken(c.node_id, c.kind, c.value, False) if isinstance(c, InputTaken) else c
                for c in res.commands
            ]
        return res

    def on_choice(self, ctx: VerbCtx, option: Option) -> Result:
        return Result(transition=Go(self.answer_nodes[option.value]))

    def on_failure(self, ctx: VerbCtx) -> Result:
        return Result(transition=Go(self.fallback_node) if self.fallback_node else Finish("failed"))

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        out = super().prompt_fields()
        return [*out, (("question",), self.question)] if self.question else out

    def template_fields(self) -> list[tuple[RelPath, str]]:
        return [*super().template_fields(), (("var",), "{" + self.var + "}")]

    def targets(self) -> list[Edge]:
        return self._edge("yes", "yes") + self._edge("no", "no") + self._edge("default", "default")
