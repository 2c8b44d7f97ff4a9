"""``transfer``: send the call to an extension or a department (e.g. the warehouse)."""

from __future__ import annotations

from typing import Any, ClassVar

from ivr.flows.commands import Command, OutcomeSet
from ivr.flows.commands import Transfer as TransferCmd
from ivr.flows.events import Event, TransferDone
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


class Transfer(Verb):
    type_name = "transfer"
    description = "Transfer to `extension` or `department`; `on_failure` when nobody answers."
    schema: ClassVar[dict[str, Any]] = {
        "extension": {"type": ["string", "integer"]},
        "department": {"type": "string"},
        "timeout": SECONDS,
        "prompt": PROMPT_SCHEMA,
        "on_failure": NODE_REF,
        "after": NODE_REF,
    }
    required = ("on_failure",)

    def target(self, departments: dict[str, str] | None = None) -> str:
        if "extension" in self.spec:
            return str(self.spec["extension"])
        if departments is None:
            from acd.queues import known_departments

            departments = known_departments()
        dept = str(self.spec.get("department", ""))
        return departments.get(dept, dept)

    def start(self, ctx: VerbCtx) -> Result:
        if "prompt" in self.spec:
            return Result([ctx.play(ctx.render(self._prompt("prompt")), barge_in=False)])
        return Result(self._go(ctx))

    def _go(self, ctx: VerbCtx) -> list[Command]:
        ctx.local["transferring"] = True
        return [TransferCmd(self.target(), float(self.spec.get("timeout", 30)))]

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.is_my_playback(event):
            return Result(self._go(ctx))
        if not isinstance(event, TransferDone) or not ctx.local.get("transferring"):
            return Result()
        ctx.local["transferring"] = False
        if event.outcome == "answered":
            after = self.spec.get("after")
            return Result([OutcomeSet("completed")], Go(str(after)) if after else Finish("completed"))
        return Result(transition=Go(str(self.spec["on_failure"])))

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        p = self._prompt("prompt")
        return [(("prompt",), p)] if p else []

    def targets(self) -> list[Edge]:
        return self._edge("after", "after") + self._edge("failure", "on_failure")

    def sinks(self) -> list[Sink]:
        name = self.spec.get("department") or self.spec.get("extension")
        return [Sink("transfer", str(name))]

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        has_ext, has_dept = "extension" in self.spec, "department" in self.spec
        if has_ext == has_dept:
            return [((), "a transfer needs exactly one of `extension` or `department`")]
        if has_dept and self.spec["department"] not in env.departments:
            name = str(self.spec["department"])
            return [
                (("department",), f"department '{name}' does not exist{did_you_mean(name, env.departments)}")
            ]
        return []
