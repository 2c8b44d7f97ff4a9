"""``collect``: digits with length limits, terminator, timeouts and validation; may be sensitive.

With ``speech: true`` the node also listens while its prompt plays and takes a spoken digit string
("four two seven one" → ``4271``) as if keyed: the first of the two wins (a key stops the listening),
and the same length/pattern/checksum rules apply. Speech that is not a digit string is a no match (the
``no_input`` prompt, a try). It never listens when ``sensitive`` (card digits never reach speech
recognition; ``ivr flows check`` reports the combination) nor in a ``KEYS_FIRST_DIGITS`` language
(Japanese: 0–5 of 10 digit strings heard right, see ``ivr.flows.speech_rules``). When the recogniser
pool is full (``SpeechDropped``) the node asks again for keys only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from ivr.flows.commands import Command, InputTaken
from ivr.flows.events import DtmfReceived, Event, SpeechDropped, SpeechRecognized
from ivr.flows.promptspec import PromptText
from ivr.flows.speech_rules import DIGITS_REQUEST, KEYS_FIRST_DIGITS
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
        "keep_last4": {
            "type": "boolean",
            "description": "a sensitive value's last four digits also go to `<var>.last4` (card read-back)",
        },
        "speech": {
            "type": "boolean",
            "description": "also take the digits spoken (never when sensitive; keys only in Japanese)",
        },
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
        self.speech = bool(spec.get("speech", False)) and not self.sensitive
        """Listen for a spoken digit string; a sensitive node never does, whatever the spec says."""
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
        self.keep_last4 = bool(spec.get("keep_last4", False))
        """Also set ``<var>.last4`` (not sensitive): a card is read back and submitted by these only."""

    def start(self, ctx: VerbCtx) -> Result:
        ctx.local.update(attempts=0, digits="")
        if self.sensitive:
            ctx.mark_sensitive(self.var)
        return Result([ctx.play(ctx.render(self.prompts["prompt"])), *self._listen(ctx)])

    def listens(self, ctx: VerbCtx) -> bool:
        """Whether this node takes spoken digits in this call now."""
        return self.speech and ctx.lang not in KEYS_FIRST_DIGITS and not ctx.keys_only

    def _listen(self, ctx: VerbCtx) -> list[Command]:
        if not self.listens(ctx) or ctx.local.get("listening"):
            return []
        return ctx.listen((DIGITS_REQUEST,))

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
        if isinstance(event, SpeechRecognized):
            return self._spoken(ctx, event)
        if isinstance(event, SpeechDropped):
            if ctx.local["digits"] or not ctx.local.get("listening"):
                return Result()
            return self._retry(ctx, None, ctx.fall_back_to_keys() + ctx.cleanup())
        if isinstance(event, DtmfReceived):
            cmds = ctx.stop_playback() + ctx.cancel_timer("first") + ctx.stop_listening()  # keys win
            if self.terminator is not None and event.digit == self.terminator:
                return self._complete(ctx, cmds)
            ctx.local["digits"] += event.digit
            if len(ctx.local["digits"]) >= self.max_length:
                return self._complete(ctx, cmds)
            cmds.append(ctx.start_timer("inter", self.inter_digit_timeout_s))
            return Result(cmds)
        return Result()

    def _spoken(self, ctx: VerbCtx, event: SpeechRecognized) -> Result:
        if self.sensitive or ctx.local["digits"] or not ctx.local.get("listening"):
            return Result()  # keys came first (or the node does not listen): too late
        value = "".join(event.text.split())
        if not (value and all(ch in "0123456789" for ch in value)):
            if ctx.playing:  # speech we cannot use during the prompt: let the prompt go on
                return Result()
            return self._retry(ctx, "no_input", ctx.cleanup())
        cmds = [*ctx.cleanup(), InputTaken(self.node_id, "speech", value)]
        if not self.valid(value):
            return self._retry(ctx, "invalid", cmds)
        ctx.vars[self.var] = value
        return Result(cmds, self._next())

    def valid(self, value: str) -> bool:
        if not self.min_length <= len(value) <= self.max_length:
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
        if self.keep_last4:
            ctx.vars[f"{self.var}.last4"] = value[-4:]
        return Result(cmds, self._next())

    def _retry(self, ctx: VerbCtx, why: str | None, cmds: list[Command]) -> Result:
        """Another try (``why``'s prompt, then the prompt; ``None``: the prompt alone), or on_failure."""
        ctx.local["attempts"] += 1
        ctx.local["digits"] = ""
        if ctx.local["attempts"] > self.retries:
            return Result(cmds, Go(self.failure_node) if self.failure_node else Finish("failed"))
        before = ctx.render(self.prompts[why]) if why is not None else ()
        return Result([*cmds, ctx.play(before + ctx.render(self.prompts["prompt"])), *self._listen(ctx)])

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        return [((k,), p) for k, p in self.prompts.items() if p is not None]

    def defined_vars(self) -> set[str]:
        return {self.var, f"{self.var}.last4"} if self.keep_last4 else {self.var}

    def targets(self) -> list[Edge]:
        return self._edge("next", "next") + self._edge("failure", "on_failure")

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        errors: list[tuple[RelPath, str]] = []
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                errors.append((("validate", "pattern"), f"invalid regular expression: {exc}"))
        if self.spec.get("speech") and self.sensitive:
            why = "a sensitive collect never listens (card digits never reach speech recognition)"
            errors.append((("speech",), why))
        lo, hi = self.min_length, self.max_length
        if self.keep_last4 and not (self.sensitive and lo >= 12):
            why = "keep_last4 is for sensitive values of at least 12 digits (min_length), like card numbers"
            errors.append((("keep_last4",), why))
        if lo > hi:
            errors.append((("min_length",), f"min_length {lo} is larger than max_length {hi}"))
        return errors
