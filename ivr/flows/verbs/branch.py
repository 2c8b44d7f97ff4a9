"""``branch``: the first rule whose conditions all hold picks the next node; else `else`.

A rule: ``{var: name, equals|not_equals: v | in: [..] | matches: regex | present: bool}``,
``{caller: regex}`` (caller number), ``{dialed: regex}``, ``{lang: ja}``; keys combine with AND.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.promptspec import render_template
from ivr.flows.verbs.base import NODE_REF, CheckEnv, Edge, Go, RelPath, Result, Verb, VerbCtx

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


def rule_holds(rule: Mapping[str, Any], variables: Mapping[str, str], lang: str) -> bool:
    if "var" in rule:
        name = str(rule["var"])
        value = variables.get(name)
        if "present" in rule and bool(rule["present"]) != bool(value):
            return False
        if "equals" in rule and value != _text(rule["equals"]):
            return False
        if "not_equals" in rule and value == _text(rule["not_equals"]):
            return False
        if "in" in rule and value not in [_text(x) for x in rule["in"]]:
            return False
        if "matches" in rule and not re.fullmatch(str(rule["matches"]), value or ""):
            return False
    if "caller" in rule and not re.fullmatch(str(rule["caller"]), variables.get("caller.number", "")):
        return False
    if "dialed" in rule and not re.fullmatch(str(rule["dialed"]), variables.get("dialed", "")):
        return False
    return not ("lang" in rule and lang != rule["lang"])


class Branch(Verb):
    type_name = "branch"
    description = "Go to the first rule's `goto` whose conditions hold, else to `else`."
    schema: ClassVar[dict[str, Any]] = {"rules": {"type": "array", "items": RULE_SCHEMA}, "else": NODE_REF}
    required = ("rules", "else")

    def start(self, ctx: VerbCtx) -> Result:
        for rule in self.spec["rules"]:
            if rule_holds(rule, ctx.vars, ctx.lang):
                return Result(transition=Go(str(rule["goto"])))
        return Result(transition=Go(str(self.spec["else"])))

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
