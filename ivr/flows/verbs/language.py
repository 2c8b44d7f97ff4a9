"""``language``: switch the call's language, fixed (`set: en`) or chosen by key or voice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.commands import SetLanguage
from ivr.flows.promptspec import parse_words
from ivr.flows.verbs._choice import CHOICE_SCHEMA, ChoiceVerb, Option
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    NODE_REF,
    WORDS_SCHEMA,
    CheckEnv,
    Edge,
    RelPath,
    Result,
    VerbCtx,
    optional_text,
)


class Language(ChoiceVerb):
    type_name = "language"
    description = "Set the language (`set`) or let the caller choose (`options`); then `next`."
    schema: ClassVar[dict[str, Any]] = {
        **CHOICE_SCHEMA,
        "set": {"type": "string", "description": "switch to this language without asking"},
        "options": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[0-9*#]$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["lang"],
                "properties": {"lang": {"type": "string"}, "words": WORDS_SCHEMA},
            },
        },
        "next": NODE_REF,
    }

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.fixed_lang = optional_text(spec, "set")
        """The language to switch to without asking; None lets the caller choose."""
        self.choices = tuple(
            Option(str(k), parse_words(o.get("words")), str(o["lang"]))
            for k, o in spec.get("options", {}).items()
        )

    def waits(self) -> bool:
        return self.fixed_lang is None

    def listen_languages(self, ctx: VerbCtx) -> tuple[str, ...]:
        """A caller choosing a language may speak any of them ("English" to a Japanese greeting)."""
        langs = [ctx.lang]
        for option in self.choices:
            for lang in (option.value, *option.words):
                if lang not in langs:
                    langs.append(lang)
        return tuple(langs)

    def start(self, ctx: VerbCtx) -> Result:
        if self.fixed_lang is not None:
            return self._switch(ctx, self.fixed_lang)
        return super().start(ctx)

    def _switch(self, ctx: VerbCtx, lang: str) -> Result:
        ctx.state.lang = lang
        return Result([SetLanguage(lang)], self._next())

    def on_choice(self, ctx: VerbCtx, option: Option) -> Result:
        return self._switch(ctx, option.value)

    def on_failure(self, ctx: VerbCtx) -> Result:
        return Result(transition=self._next())  # keep the current language

    def targets(self) -> list[Edge]:
        return self._edge("next", "next")

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        errors: list[tuple[RelPath, str]] = []
        if "set" not in self.spec and "options" not in self.spec:
            errors.append(((), "a language node needs `set` (a language) or `options` (a choice)"))
        wanted: list[RelPath] = [("set",)] if "set" in self.spec else []
        wanted += [("options", str(k), "lang") for k in self.spec.get("options", {})]
        for path in wanted:
            value = self.spec["set"] if path == ("set",) else self.spec["options"][path[1]]["lang"]
            if value not in env.languages:
                errors.append(
                    (path, f"language '{value}' is not declared in `languages` {list(env.languages)}")
                )
        return errors
