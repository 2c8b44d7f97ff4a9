"""``queue``: hand the call to an ACD skill queue; route on how it came back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.commands import Command, EnterQueue, OutcomeSet
from ivr.flows.events import Event, QueueDone
from ivr.flows.promptspec import PromptText
from ivr.flows.suggest import did_you_mean
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    NODE_REF,
    PROMPT_SCHEMA,
    SECONDS,
    CheckEnv,
    Edge,
    Finish,
    Go,
    RelPath,
    Result,
    Sink,
    Verb,
    VerbCtx,
    optional_text,
)


class Queue(Verb):
    type_name = "queue"
    description = (
        "Enter an ACD queue. `after`: the agent hung up (e.g. survey); `on_no_agents`, `on_timeout`."
    )
    schema: ClassVar[dict[str, Any]] = {
        "queue": {"type": "string"},
        "priority": {"type": "integer", "minimum": 0, "maximum": 100},
        "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
        "timeout": SECONDS,
        "prompt": PROMPT_SCHEMA,
        "after": NODE_REF,
        "on_no_agents": NODE_REF,
        "on_timeout": NODE_REF,
    }
    required = ("queue", "on_no_agents")

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.queue = str(spec["queue"])
        self.priority = int(spec.get("priority", 0))
        self.attributes = {str(k): str(v) for k, v in spec.get("attributes", {}).items()}
        self.timeout_s = float(spec.get("timeout", 300))
        self.prompt = self._prompt("prompt")
        self.after_node = optional_text(spec, "after")
        self.no_agents_node = str(spec["on_no_agents"])
        self.timeout_node = optional_text(spec, "on_timeout")

    def start(self, ctx: VerbCtx) -> Result:
        if self.prompt is not None:
            return Result([ctx.play(ctx.render(self.prompt), barge_in=False)])
        return Result(self._enter(ctx))

    def _enter(self, ctx: VerbCtx) -> list[Command]:
        ctx.local["queued"] = True
        return [EnterQueue(self.queue, self.priority, dict(self.attributes), self.timeout_s)]

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.is_my_playback(event):
            return Result(self._enter(ctx))
        if not isinstance(event, QueueDone) or not ctx.local.get("queued"):
            return Result()
        ctx.local["queued"] = False
        ctx.vars["queue.outcome"] = event.outcome
        if event.outcome == "answered":
            after = self.after_node
            return Result([OutcomeSet("completed")], Go(after) if after else Finish("completed"))
        if event.outcome == "timeout" and self.timeout_node is not None:
            return Result(transition=Go(self.timeout_node))
        return Result(transition=Go(self.no_agents_node))

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        return [(("prompt",), self.prompt)] if self.prompt else []

    def defined_vars(self) -> set[str]:
        return {"queue.outcome"}

    def targets(self) -> list[Edge]:
        return (
            self._edge("after agent", "after")
            + self._edge("no agents", "on_no_agents")
            + self._edge("timeout", "on_timeout")
        )

    def sinks(self) -> list[Sink]:
        return [Sink("queue", self.queue)]

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        name = self.queue
        if name not in env.queues:
            return [(("queue",), f"queue '{name}' does not exist{did_you_mean(name, env.queues)}")]
        return []
