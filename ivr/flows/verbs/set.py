"""``set``: assign variables from templates."""

from __future__ import annotations

from typing import Any, ClassVar

from ivr.flows.promptspec import render_template
from ivr.flows.verbs.base import NODE_REF, Edge, RelPath, Result, Verb, VerbCtx


class Set(Verb):
    type_name = "set"
    description = "Set variables (values are templates), then `next`."
    schema: ClassVar[dict[str, Any]] = {
        "vars": {
            "type": "object",
            "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_.]*$"},
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        "next": NODE_REF,
    }
    required = ("vars",)

    def start(self, ctx: VerbCtx) -> Result:
        values = {k: render_template(str(v), ctx.vars) for k, v in self.spec["vars"].items()}
        ctx.vars.update(values)
        return Result(transition=self._next())

    def template_fields(self) -> list[tuple[RelPath, str]]:
        return [(("vars", k), str(v)) for k, v in self.spec["vars"].items()]

    def defined_vars(self) -> set[str]:
        return {str(k) for k in self.spec["vars"]}

    def targets(self) -> list[Edge]:
        return self._edge("next", "next")
