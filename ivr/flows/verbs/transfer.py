"""``transfer``: send the call to an extension or a department (e.g. the warehouse).

A department is resolved to its extension when the flow is loaded (from the ``CheckEnv`` the loader
was given), so nothing is looked up while a call runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.commands import Command, OutcomeSet
from ivr.flows.commands import Transfer as TransferCmd
from ivr.flows.events import Event, TransferDone
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

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.department = optional_text(spec, "department")
        if "extension" in spec:
            self.extension = str(spec["extension"])
        else:  # an unknown department is reported by ``check`` and never runs
            department = self.department or ""
            self.extension = env.departments.get(department, department)
        """Where the call goes: the ``extension``, or the ``department``'s extension."""
        self.timeout_s = float(spec.get("timeout", 30))
        self.prompt = self._prompt("prompt")
        self.after_node = optional_text(spec, "after")
        self.failure_node = str(spec["on_failure"])

    def start(self, ctx: VerbCtx) -> Result:
        if self.prompt is not None:
            return Result([ctx.play(ctx.render(self.prompt), barge_in=False)])
        return Result(self._go(ctx))

    def _go(self, ctx: VerbCtx) -> list[Command]:
        ctx.local["transferring"] = True
        return [TransferCmd(self.extension, self.timeout_s)]

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.is_my_playback(event):
            return Result(self._go(ctx))
        if not isinstance(event, TransferDone) or not ctx.local.get("transferring"):
            return Result()
        ctx.local["transferring"] = False
        if event.outcome == "answered":
            after = self.after_node
            return Result([OutcomeSet("completed")], Go(after) if after else Finish("completed"))
        return Result(transition=Go(self.failure_node))

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        return [(("prompt",), self.prompt)] if self.prompt else []

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
