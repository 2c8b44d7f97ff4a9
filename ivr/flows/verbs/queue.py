"""``queue``: hand the call to an ACD skill queue; route on how it came back."""

from __future__ import annotations

from typing import Any, ClassVar

from ivr.flows.commands import Command, EnterQueue, OutcomeSet
from ivr.flows.events import Event, QueueDone
from ivr.flows.promptspec import PromptText
from ivr.flows.suggest import did_you_mean
from ivr.flows.verbs.base import (
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

    def start(self, ctx: VerbCtx) -> Result:
        if "prompt" in self.spec:
            return Result([ctx.play(ctx.render(self._prompt("prompt")), barge_in=False)])
        return Result(self._enter(ctx))

    def _enter(self, ctx: VerbCtx) -> list[Command]:
        ctx.local["queued"] = True
        return [
            EnterQueue(
                str(self.spec["queue"]),
                int(self.spec.get("priority", 0)),
                {str(k): str(v) for k, v in self.spec.get("attributes", {}).items()},
                float(self.spec.get("timeout", 300)),
            )
        ]

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.is_my_playback(event):
            return Result(self._enter(ctx))
        if not isinstance(event, QueueDone) or not ctx.local.get("queued"):
            return Result()
        ctx.local["queued"] = False
        ctx.vars["queue.outcome"] = event.outcome
        if event.outcome == "answered":
            after = self.spec.get("after")
            return Result([OutcomeSet("completed")], Go(str(after)) if after else Finish("completed"))
        if event.outcome == "timeout" and "on_timeout" in self.spec:
            return Result(transition=Go(str(self.spec["on_timeout"])))
        return Result(transition=Go(str(self.spec["on_no_agents"])))

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        p = self._prompt("prompt")
        return [(("prompt",), p)] if p else []

    def defined_vars(self) -> set[str]:
        return {"queue.outcome"}

    def targets(self) -> list[Edge]:
        return (
            self._edge("after agent", "after")
            + self._edge("no agents", "on_no_agents")
            + self._edge("timeout", "on_timeout")
        )

    def sinks(self) -> list[Sink]:
        return [Sink("queue", str(self.spec["queue"]))]

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        name = str(self.spec["queue"])
        if name not in env.queues:
            return [(("queue",), f"queue '{name}' does not exist{did_you_mean(name, env.queues)}")]
        return []
