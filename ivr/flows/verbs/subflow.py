"""``subflow``: run another flow (e.g. ``survey``), then continue at `next` (or finish)."""

from __future__ import annotations

from typing import Any, ClassVar

from ivr.flows.verbs.base import NODE_REF, Edge, Enter, Result, Sink, Verb, VerbCtx


class Subflow(Verb):
    type_name = "subflow"
    waits_for_input = True  # the other flow is checked on its own
    description = "Run the flow named `flow`; when it finishes, continue at `next`."
    schema: ClassVar[dict[str, Any]] = {"flow": {"type": "string"}, "next": NODE_REF}
    required = ("flow",)

    def start(self, ctx: VerbCtx) -> Result:
        nxt = self.spec.get("next")
        return Result(transition=Enter(str(self.spec["flow"]), None if nxt is None else str(nxt)))

    def targets(self) -> list[Edge]:
        return self._edge("after", "next")

    def sinks(self) -> list[Sink]:
        return [Sink("subflow", str(self.spec["flow"]))]
