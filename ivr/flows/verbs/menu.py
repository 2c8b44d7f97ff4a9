"""``menu``: options by DTMF key and by spoken words; retries; a default after N failures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.promptspec import parse_words
from ivr.flows.verbs._choice import CHOICE_SCHEMA, ChoiceVerb, Option
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    NODE_REF,
    WORDS_SCHEMA,
    CheckEnv,
    Edge,
    Finish,
    Go,
    Result,
    VerbCtx,
    optional_text,
)


class Menu(ChoiceVerb):
    type_name = "menu"
    description = "Offer options by key and by voice; after too many failures go to `default`."
    schema: ClassVar[dict[str, Any]] = {
        **CHOICE_SCHEMA,
        "options": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[0-9*#A-D]$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["goto"],
                "properties": {
                    "goto": NODE_REF,
                    "words": WORDS_SCHEMA,
                    "label": {"type": "string", "description": "shown on graph edges"},
                },
            },
        },
        "default": {**NODE_REF, "description": "where to go after the last failed try (else hang up)"},
    }
    required = ("prompt", "options")

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.choices = tuple(
            Option(str(key), parse_words(opt.get("words")), str(opt["goto"]))
            for key, opt in spec["options"].items()
        )
        self.default_node = optional_text(spec, "default")

    def on_choice(self, ctx: VerbCtx, option: Option) -> Result:
        return Result(transition=Go(option.value))

    def on_failure(self, ctx: VerbCtx) -> Result:
        return Result(transition=Go(self.default_node) if self.default_node else Finish("failed"))

    def targets(self) -> list[Edge]:
        edges = []
        for key, opt in self.spec["options"].items():
            words = parse_words(opt.get("words"))
            first = [ws[0] for ws in words.values() if ws]
            label = str(opt.get("label") or " / ".join([str(key), *first]))
            edges.append(Edge(label, str(opt["goto"]), ("options", str(key), "goto")))
        return edges + self._edge("default", "default")
