"""``set``: assign variables from templates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.promptspec import render_template
from ivr.flows.verbs.base import DEFAULT_ENV, NODE_REF, CheckEnv, Edge, RelPath, Result, Verb, VerbCtx


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

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.values = {str(k): _text(v) for k, v in spec["vars"].items()}
        """Variable name -> template of its value."""

    def start(self, ctx: VerbCtx) -> Result:
        values = {k: render_template(v, ctx.vars) for k, v in self.values.items()}
        ctx.vars.update(values)
        return Result(transition=self._next())

    def template_fields(self) -> list[tuple[RelPath, str]]:
        return [(("vars", k), v) for k, v in self.values.items()]

    def defined_vars(self) -> set[str]:
        return set(self.values)

    def targets(self) -> list[Edge]:
        return self._edge("next", "next")


def _text(value: object) -> str:
    """A YAML scalar as the string a template or a ``branch`` comparison sees (``true``, not ``True``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
