"""``subflow``: run another flow (e.g. ``survey``), then continue at `next` (or finish)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.verbs.base import DEFAULT_ENV, NODE_REF, CheckEnv, Edge, Enter, Result, Sink, Verb, VerbCtx


class Subflow(Verb):
    type_name = "subflow"
    waits_for_input = True  # the other flow is checked on its own
    description = "Run the flow named `flow`; when it finishes, continue at `next`."
    schema: ClassVar[dict[str, Any]] = {"flow": {"type": "string"}, "next": NODE_REF}
    required = ("flow",)

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.flow_name = str(spec["flow"])

    def start(self, ctx: VerbCtx) -> Result:
        return Result(transition=Enter(self.flow_name, self.next_node))

    def targets(self) -> list[Edge]:
        return self._edge("after", "next")

    def sinks(self) -> list[Sink]:
        return [Sink("subflow", self.flow_name)]
