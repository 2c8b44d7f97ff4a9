"""``collect``: digits with length limits, terminator, timeouts and validation; may be sensitive."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from ivr.flows.commands import Command, InputTaken
from ivr.flows.events import DtmfReceived, Event
from ivr.flows.promptspec import PromptText
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
    Verb,
    VerbCtx,
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


CHECKSUMS = {"luhn": luhn_ok, "mod11": mod11_ok}


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

    @property
    def sensitive(self) -> bool:
        return bool(self.spec.get("sensitive", False))

    def start(self, ctx: VerbCtx) -> Result:
        ctx.local.update(attempts=0, digits="")
        if self.sensitive:
            ctx.mark_sensitive(str(self.spec["var"]))
        return Result([ctx.play(ctx.render(self._prompt("prompt")))])

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.is_my_playback(event):
            if ctx.local["digits"]:
                return Result()
            cmds: list[Command] = [ctx.start_timer("first", float(self.spec.get("timeout", 5)))]
            if "overall_timeout" in self.spec:
                cmds.append(ctx.start_timer("overall", float(self.spec["overall_timeout"])))
            return Result(cmds)
        if ctx.fired(event, "first"):
            return self._retry(ctx, "no_input", [])
        if ctx.fired(event, "inter") or ctx.fired(event, "overall"):
            return self._complete(ctx, [])
        if isinstance(event, DtmfReceived):
            cmds = ctx.stop_playback() + ctx.cancel_timer("first")
            terminator = self.spec.get("terminator", "#")
            if terminator is not None and event.digit == terminator:
                return self._complete(ctx, cmds)
            ctx.local["digits"] += event.digit
            if len(ctx.local["digits"]) >= int(self.spec.get("max_length", 20)):
                return self._complete(ctx, cmds)
            cmds.append(ctx.start_timer("inter", float(self.spec.get("inter_digit_timeout", 3))))
            return Result(cmds)
        return Result()

    def valid(self, value: str) -> bool:
        if len(value) < int(self.spec.get("min_length", 1)):
            return False
        rules = self.spec.get("validate", {})
        if "pattern" in rules and not re.fullmatch(str(rules["pattern"]), value):
            return False
        if rules.get("luhn") and not luhn_ok(value):
            return False
        return not ("checksum" in rules and not CHECKSUMS[str(rules["checksum"])](value))

    def _complete(self, ctx: VerbCtx, cmds: list[Command]) -> Result:
        value = str(ctx.local["digits"])
        cmds = cmds + ctx.cleanup()
        if not value:
            return self._retry(ctx, "no_input", cmds)
        shown = mask(value) if self.sensitive else value
        cmds.append(InputTaken(self.node_id, "dtmf", shown, self.sensitive))
        if not self.valid(value):
            return self._retry(ctx, "invalid", cmds)
        ctx.vars[str(self.spec["var"])] = value
        return Result(cmds, self._next())

    def _retry(self, ctx: VerbCtx, why: str, cmds: list[Command]) -> Result:
        ctx.local["attempts"] += 1
        ctx.local["digits"] = ""
        if ctx.local["attempts"] > int(self.spec.get("retries", 2)):
            target = self.spec.get("on_failure")
            return Result(cmds, Go(str(target)) if target else Finish("failed"))
        prompts = ctx.render(self._prompt(why)) + ctx.render(self._prompt("prompt"))
        return Result([*cmds, ctx.play(prompts)])

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        return [((k,), p) for k in ("prompt", "no_input", "invalid") if (p := self._prompt(k)) is not None]

    def defined_vars(self) -> set[str]:
        return {str(self.spec["var"])}

    def targets(self) -> list[Edge]:
        return self._edge("next", "next") + self._edge("failure", "on_failure")

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        errors: list[tuple[RelPath, str]] = []
        pattern = self.spec.get("validate", {}).get("pattern")
        if pattern is not None:
            try:
                re.compile(str(pattern))
            except re.error as exc:
                errors.append((("validate", "pattern"), f"invalid regular expression: {exc}"))
        lo, hi = int(self.spec.get("min_length", 1)), int(self.spec.get("max_length", 20))
        if lo > hi:
            errors.append((("min_length",), f"min_length {lo} is larger than max_length {hi}"))
        return errors
