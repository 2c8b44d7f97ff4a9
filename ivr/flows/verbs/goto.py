"""``goto``: jump to another node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.verbs.base import DEFAULT_ENV, NODE_REF, CheckEnv, Edge, Go, Result, Verb, VerbCtx


class Goto(Verb):
    type_name = "goto"
    description = "Jump to `target`."
    schema: ClassVar[dict[str, Any]] = {"target": NODE_REF}
    required = ("target",)

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.target = str(spec["target"])

    def start(self, ctx: VerbCtx) -> Result:
        return Result(transition=Go(self.target))

    def targets(self) -> list[Edge]:
        return self._edge("", "target")
