"""``collect``: digits with length limits, terminator, timeouts and validation; may be sensitive."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ivr.flows.commands import Command, InputTaken
from ivr.flows.events import DtmfReceived, Event
from ivr.flows.promptspec import PromptText
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
    Verb,
    VerbCtx,
    optional_text,
)


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mod11_ok(digits: str) -> bool:
    """Last digit is a mod-11 check digit over the others (weights 2, 3, 4… from the right)."""
    if len(digits) < 2 or not digits.isdigit():
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (i + 2) for i, d in enumerate(reversed(body)))
    expected = (11 - total % 11) % 11
    return expected < 10 and expected == check


CHECKSUMS: dict[str, Callable[[str], bool]] = {"luhn": luhn_ok, "mod11": mod11_ok}


def mask(value: str) -> str:
    return f"•••• ({len(value)} digits)"


class Collect(Verb):
    type_name = "collect"
    waits_for_input = True
    description = "Collect digits into `var`; invalid or missing input retries, then `on_failure`."
    schema: ClassVar[dict[str, Any]] = {
        "prompt": PROMPT_SCHEMA,
        "var": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_.]*$"},
        "min_length": {"type": "integer", "minimum": 1},
        "max_length": {"type": "integer", "minimum": 1, "maximum": 64},
        "terminator": {"type": ["string", "null"], "enum": ["#", "*", None]},
        "timeout": {**SECONDS, "description": "seconds to wait for the first digit after the prompt"},
        "inter_digit_timeout": {**SECONDS, "description": "seconds after a digit that end the input"},
        "overall_timeout": {**SECONDS, "description": "seconds for the whole input"},
        "validate": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "pattern": {"type": "string", "description": "regular expression the whole value must match"},
                "luhn": {"type": "boolean"},
                "checksum": {"enum": sorted(CHECKSUMS)},
            },
        },
        "sensitive": {"type": "boolean", "description": "mask the value in logs, store, API, recordings"},
        "retries": {"type": "integer", "minimum": 0, "maximum": 10},
        "no_input": PROMPT_SCHEMA,
        "invalid": PROMPT_SCHEMA,
        "next": NODE_REF,
        "on_failure": NODE_REF,
    }
    required = ("prompt", "var")

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.var = str(spec["var"])
        self.sensitive = bool(spec.get("sensitive", False))
        self.min_length = int(spec.get("min_length", 1))
        self.max_length = int(spec.get("max_length", 20))
        self.terminator = optional_text(spec, "terminator") if "terminator" in spec else "#"
        """The key that ends the input; None when only the length and the timers end it."""
        self.timeout_s = float(spec.get("timeout", 5))
        self.inter_digit_timeout_s = float(spec.get("inter_digit_timeout", 3))
        self.overall_timeout_s = float(spec["overall_timeout"]) if "overall_timeout" in spec else None
        rules = spec.get("validate", {})
        self.pattern = optional_text(rules, "pattern")
        self.luhn = bool(rules.get("luhn"))
        self.checksum = CHECKSUMS[str(rules["checksum"])] if "checksum" in rules else None
        self.retries = int(spec.get("retries", 2))
        self.prompts: dict[str, PromptText | None] = {
            k: self._prompt(k) for k in ("prompt", "no_input", "invalid")
        }
        self.failure_node = optional_text(spec, "on_failure")

    def start(self, ctx: VerbCtx) -> Result:
        ctx.local.update(attempts=0, digits="")
        if self.sensitive:
            ctx.mark_sensitive(self.var)
        return Result([ctx.play(ctx.render(self.prompts["prompt"]))])

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.is_my_playback(event):
            if ctx.local["digits"]:
                return Result()
            cmds: list[Command] = [ctx.start_timer("first", self.timeout_s)]
            if self.overall_timeout_s is not None:
                cmds.append(ctx.start_timer("overall", self.overall_timeout_s))
            return Result(cmds)
        if ctx.fired(event, "first"):
            return self._retry(ctx, "no_input", [])
        if ctx.fired(event, "inter") or ctx.fired(event, "overall"):
            return self._complete(ctx, [])
        if isinstance(event, DtmfReceived):
            cmds = ctx.stop_playback() + ctx.cancel_timer("first")
            if self.terminator is not None and event.digit == self.terminator:
                return self._complete(ctx, cmds)
            ctx.local["digits"] += event.digit
            if len(ctx.local["digits"]) >= self.max_length:
                return self._complete(ctx, cmds)
            cmds.append(ctx.start_timer("inter", self.inter_digit_timeout_s))
            return Result(cmds)
        return Result()

    def valid(self, value: str) -> bool:
        if len(value) < self.min_length:
            return False
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            return False
        if self.luhn and not luhn_ok(value):
            return False
        return self.checksum is None or self.checksum(value)

    def _complete(self, ctx: VerbCtx, cmds: list[Command]) -> Result:
        value = str(ctx.local["digits"])
        cmds = cmds + ctx.cleanup()
        if not value:
            return self._retry(ctx, "no_input", cmds)
        shown = mask(value) if self.sensitive else value
        cmds.append(InputTaken(self.node_id, "dtmf", shown, self.sensitive))
        if not self.valid(value):
            return self._retry(ctx, "invalid", cmds)
        ctx.vars[self.var] = value
        return Result(cmds, self._next())

    def _retry(self, ctx: VerbCtx, why: str, cmds: list[Command]) -> Result:
        ctx.local["attempts"] += 1
        ctx.local["digits"] = ""
        if ctx.local["attempts"] > self.retries:
            return Result(cmds, Go(self.failure_node) if self.failure_node else Finish("failed"))
        prompts = ctx.render(self.prompts[why]) + ctx.render(self.prompts["prompt"])
        return Result([*cmds, ctx.play(prompts)])

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        return [((k,), p) for k, p in self.prompts.items() if p is not None]

    def defined_vars(self) -> set[str]:
        return {self.var}

    def targets(self) -> list[Edge]:
        return self._edge("next", "next") + self._edge("failure", "on_failure")

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        errors: list[tuple[RelPath, str]] = []
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                errors.append((("validate", "pattern"), f"invalid regular expression: {exc}"))
        lo, hi = self.min_length, self.max_length
        if lo > hi:
            errors.append((("min_length",), f"min_length {lo} is larger than max_length {hi}"))
        return errors
