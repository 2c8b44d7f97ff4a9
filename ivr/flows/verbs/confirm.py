"""``confirm``: read back a collected value digit by digit, then yes/no by key or by voice."""

from __future__ import annotations

from typing import Any, ClassVar

from ivr.flows.commands import InputTaken
from ivr.flows.events import DtmfReceived, Event
from ivr.flows.prompts import Digits, Prompt
from ivr.flows.promptspec import PromptText, parse_words
from ivr.flows.verbs._choice import CHOICE_SCHEMA, ChoiceVerb, Option
from ivr.flows.verbs.base import (
    NODE_REF,
    PROMPT_SCHEMA,
    WORDS_SCHEMA,
    Edge,
    Finish,
    Go,
    RelPath,
    Result,
    VerbCtx,
)

DEFAULT_YES = {"ja": ("はい", "ええ", "そうです", "正しい"), "en": ("yes", "yeah", "correct", "right")}
DEFAULT_NO = {"ja": ("いいえ", "違います", "ちがいます", "いや"), "en": ("no", "wrong", "nope")}


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

    def options(self) -> list[Option]:
        yes = parse_words(self.spec["yes_words"]) if "yes_words" in self.spec else DEFAULT_YES
        no = parse_words(self.spec["no_words"]) if "no_words" in self.spec else DEFAULT_NO
        return [
            Option(str(self.spec.get("yes_key", "1")), dict(yes), "yes"),
            Option(str(self.spec.get("no_key", "2")), dict(no), "no"),
        ]

    def intro(self, ctx: VerbCtx) -> tuple[Prompt, ...]:
        value = ctx.vars.get(str(self.spec["var"]), "")
        before = ctx.render(self._prompt("prompt"))
        return (*before, Digits(value, ctx.lang), *ctx.render(self._prompt("question")))

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        res = super().on_event(ctx, event)
        if isinstance(event, DtmfReceived):  # a yes/no key is not sensitive even when the value is
            res.commands = [
                InputTaken(c.node_id, c.kind, c.value, False) if isinstance(c, InputTaken) else c
                for c in res.commands
            ]
        return res

    def on_choice(self, ctx: VerbCtx, option: Option) -> Result:
        return Result(transition=Go(str(self.spec[option.value])))

    def on_failure(self, ctx: VerbCtx) -> Result:
        target = self.spec.get("default", self.spec.get("no"))
        return Result(transition=Go(str(target)) if target else Finish("failed"))

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        out = super().prompt_fields()
        q = self._prompt("question")
        return [*out, (("question",), q)] if q else out

    def template_fields(self) -> list[tuple[RelPath, str]]:
        return [*super().template_fields(), (("var",), "{" + str(self.spec["var"]) + "}")]

    def targets(self) -> list[Edge]:
        return self._edge("yes", "yes") + self._edge("no", "no") + self._edge("default", "default")
