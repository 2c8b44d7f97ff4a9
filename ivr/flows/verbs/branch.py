"""``branch``: the first rule whose conditions all hold picks the next node; else `else`.

A rule: ``{var: name, equals|not_equals: v | in: [..] | matches: regex | present: bool}``,
``{caller: regex}`` (caller number), ``{dialed: regex}``, ``{lang: ja}``; keys combine with AND.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ivr.flows.promptspec import render_template
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    NODE_REF,
    CheckEnv,
    Edge,
    Go,
    RelPath,
    Result,
    Verb,
    VerbCtx,
    optional_text,
)

RULE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["goto"],
    "properties": {
        "var": {"type": "string"},
        "equals": {"type": ["string", "number", "boolean"]},
        "not_equals": {"type": ["string", "number", "boolean"]},
        "in": {"type": "array", "items": {"type": ["string", "number"]}},
        "matches": {"type": "string"},
        "present": {"type": "boolean"},
        "caller": {"type": "string", "description": "regular expression on the caller number"},
        "dialed": {"type": "string", "description": "regular expression on the dialed number"},
        "lang": {"type": "string"},
        "goto": NODE_REF,
    },
}


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


@dataclass(frozen=True)
class Rule:
    """One parsed rule; values compared with variables are already text (``true``/``false`` for booleans)."""

    goto: str
    var: str | None = None
    present: bool | None = None
    equals: str | None = None
    not_equals: str | None = None
    one_of: tuple[str, ...] | None = None
    matches: str | None = None
    caller: str | None = None
    dialed: str | None = None
    lang: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> Rule:
        def text(key: str) -> str | None:
            return _text(raw[key]) if key in raw else None

        return cls(
            goto=str(raw["goto"]),
            var=optional_text(raw, "var"),
            present=bool(raw["present"]) if "present" in raw else None,
            equals=text("equals"),
            not_equals=text("not_equals"),
            one_of=tuple(_text(x) for x in raw["in"]) if "in" in raw else None,
            matches=optional_text(raw, "matches"),
            caller=optional_text(raw, "caller"),
            dialed=optional_text(raw, "dialed"),
            lang=optional_text(raw, "lang"),
        )


def rule_holds(rule: Rule, variables: Mapping[str, str], lang: str) -> bool:
    if rule.var is not None:
        value = variables.get(rule.var)
        if rule.present is not None and rule.present != bool(value):
            return False
        if rule.equals is not None and value != rule.equals:
            return False
        if rule.not_equals is not None and value == rule.not_equals:
            return False
        if rule.one_of is not None and value not in rule.one_of:
            return False
        if rule.matches is not None and not re.fullmatch(rule.matches, value or ""):
            return False
    if rule.caller is not None and not re.fullmatch(rule.caller, variables.get("caller.number", "")):
        return False
    if rule.dialed is not None and not re.fullmatch(rule.dialed, variables.get("dialed", "")):
        return False
    return not (rule.lang is not None and lang != rule.lang)


class Branch(Verb):
    type_name = "branch"
    description = "Go to the first rule's `goto` whose conditions hold, else to `else`."
    schema: ClassVar[dict[str, Any]] = {"rules": {"type": "array", "items": RULE_SCHEMA}, "else": NODE_REF}
    required = ("rules", "else")

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.rules = tuple(Rule.parse(rule) for rule in spec["rules"])
        self.else_node = str(spec["else"])

    def start(self, ctx: VerbCtx) -> Result:
        for rule in self.rules:
            if rule_holds(rule, ctx.vars, ctx.lang):
                return Result(transition=Go(rule.goto))
        return Result(transition=Go(self.else_node))

    def targets(self) -> list[Edge]:
        edges = [
            Edge(_label(rule), str(rule["goto"]), ("rules", str(i), "goto"))
            for i, rule in enumerate(self.spec["rules"])
        ]
        return edges + self._edge("else", "else")

    def template_fields(self) -> list[tuple[RelPath, str]]:
        return [
            (("rules", str(i), "var"), "{" + str(r["var"]) + "}")
            for i, r in enumerate(self.spec["rules"])
            if "var" in r
        ]

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        errors: list[tuple[RelPath, str]] = []
        for i, rule in enumerate(self.spec["rules"]):
            for key in ("matches", "caller", "dialed"):
                if key in rule:
                    try:
                        re.compile(str(rule[key]))
                    except re.error as exc:
                        errors.append((("rules", str(i), key), f"invalid regular expression: {exc}"))
            for key in ("equals", "not_equals", "in", "matches", "present"):
                if key in rule and "var" not in rule:
                    errors.append((("rules", str(i), key), f"`{key}` needs a `var` to compare"))
            if "lang" in rule and rule["lang"] not in env.languages:
                errors.append((("rules", str(i), "lang"), f"language '{rule['lang']}' is not declared"))
        return errors


def _label(rule: Mapping[str, Any]) -> str:
    parts = [f"{k}={render_template(_text(v), {})}" for k, v in rule.items() if k != "goto"]
    return ", ".join(parts) or "always"
