"""Shared behaviour of verbs where the caller picks one of a few options by key or by voice.

Prompt (barge-in) → no-input timer after the prompt ends → a key or a recognised word picks an option;
no input / no match replays the matching prompt and the main prompt, up to ``retries`` times, then
``on_failure``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ivr.flows.commands import Command, InputTaken
from ivr.flows.events import DtmfReceived, Event, SpeechRecognized
from ivr.flows.prompts import Prompt
from ivr.flows.promptspec import PromptText
from ivr.flows.verbs.base import (
    PROMPT_SCHEMA,
    SECONDS,
    RelPath,
    Result,
    Verb,
    VerbCtx,
    speech_matches,
    words_for,
)


@dataclass(frozen=True)
class Option:
    key: str | None
    words: dict[str, tuple[str, ...]]
    value: str


CHOICE_SCHEMA: dict[str, Any] = {
    "prompt": PROMPT_SCHEMA,
    "no_input": {**PROMPT_SCHEMA, "description": "played when the caller says and presses nothing"},
    "no_match": {**PROMPT_SCHEMA, "description": "played when the key or word is not an option"},
    "retries": {"type": "integer", "minimum": 0, "maximum": 10},
    "timeout": {**SECONDS, "description": "seconds to wait for input after the prompt ends"},
}


class ChoiceVerb(Verb):
    waits_for_input: ClassVar[bool] = True
    default_retries: ClassVar[int] = 2

    def options(self) -> list[Option]:
        raise NotImplementedError

    def on_choice(self, ctx: VerbCtx, option: Option) -> Result:
        raise NotImplementedError

    def on_failure(self, ctx: VerbCtx) -> Result:
        raise NotImplementedError

    def intro(self, ctx: VerbCtx) -> tuple[Prompt, ...]:
        return ctx.render(self._prompt("prompt"))

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        out: list[tuple[RelPath, PromptText]] = []
        for key in ("prompt", "no_input", "no_match"):
            spec = self._prompt(key)
            if spec is not None:
                out.append(((key,), spec))
        return out

    # --- run time ---
    def start(self, ctx: VerbCtx) -> Result:
        ctx.local["attempts"] = 0
        return Result(self._ask(ctx, ()))

    def listen_languages(self, ctx: VerbCtx) -> tuple[str, ...]:
        """Languages the caller may answer in here: the call's own, unless a verb knows better."""
        return (ctx.lang,)

    def _ask(self, ctx: VerbCtx, before: tuple[Prompt, ...]) -> list[Command]:
        cmds: list[Command] = [ctx.play(before + self.intro(ctx), barge_in=True)]
        if not ctx.local.get("listening"):
            for lang in self.listen_languages(ctx):
                cmds += ctx.listen(tuple(w for o in self.options() for w in words_for(o.words, lang)), lang)
        return cmds

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.is_my_playback(event):
            return Result([ctx.start_timer("input", float(self.spec.get("timeout", 5)))])
        if ctx.fired(event, "input"):
            return self._fail(ctx, "no_input")
        if isinstance(event, DtmfReceived):
            cmds = ctx.stop_playback() + ctx.cancel_timer("input")
            for option in self.options():
                if option.key is not None and option.key == event.digit:
                    return self._chosen(ctx, option, "dtmf", event.digit, cmds)
            res = self._fail(ctx, "no_match")
            return Result(cmds + res.commands, res.transition)
        if isinstance(event, SpeechRecognized):
            lang = event.lang if event.lang in self.listen_languages(ctx) else ctx.lang
            for option in self.options():
                if any(speech_matches(event.text, w) for w in words_for(option.words, lang)):
                    cmds = ctx.stop_playback() + ctx.cancel_timer("input")
                    return self._chosen(ctx, option, "speech", event.text, cmds)
            if ctx.playing:  # speech we cannot use during the prompt: let the prompt go on
                return Result()
            res = self._fail(ctx, "no_match")
            return Result(ctx.cancel_timer("input") + res.commands, res.transition)
        return Result()

    def _chosen(self, ctx: VerbCtx, option: Option, kind: str, raw: str, cmds: list[Command]) -> Result:
        cmds = [*cmds, InputTaken(self.node_id, kind, raw)]
        res = self.on_choice(ctx, option)
        return Result(cmds + res.commands, res.transition)

    def _fail(self, ctx: VerbCtx, why: str) -> Result:
        ctx.local["attempts"] = int(ctx.local.get("attempts", 0)) + 1
        if ctx.local["attempts"] > int(self.spec.get("retries", self.default_retries)):
            return self.on_failure(ctx)
        return Result(self._ask(ctx, ctx.render(self._prompt(why))))
