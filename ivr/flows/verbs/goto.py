"""``goto``: jump to another node."""

from __future__ import annotations

from typing import Any, ClassVar

from ivr.flows.verbs.base import NODE_REF, Edge, Go, Result, Verb, VerbCtx


class Goto(Verb):
    type_name = "goto"
    description = "Jump to `target`."
    schema: ClassVar[dict[str, Any]] = {"target": NODE_REF}
    required = ("target",)

    def start(self, ctx: VerbCtx) -> Result:
        return Result(transition=Go(str(self.spec["target"])))

    def targets(self) -> list[Edge]:
        return self._edge("", "target")
