"""Shared behaviour of verbs where the caller picks one of a few options by key or by voice.

Prompt (barge-in) → no-input timer after the prompt ends → a key or a recognised word picks an option;
no input / no match replays the matching prompt and the main prompt, up to ``retries`` times, then
``on_failure``. ``SpeechDropped`` (the recogniser pool was full) counts as a no match, and the node
asks again with keys only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ivr.flows.commands import Command, InputTaken
from ivr.flows.events import DtmfReceived, Event, SpeechDropped, SpeechRecognized
from ivr.flows.promptspec import PromptText
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    PROMPT_SCHEMA,
    SECONDS,
    CheckEnv,
    RelPath,
    Result,
    Verb,
    VerbCtx,
    speech_matches,
    words_for,
)
from ivr.prompts import Prompt


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
    """Subclasses set ``self.choices`` in ``__init__`` (after calling this one)."""

    waits_for_input: ClassVar[bool] = True
    default_retries: ClassVar[int] = 2
    choices: tuple[Option, ...] = ()

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.prompt = self._prompt("prompt")
        self.retry_prompts: dict[str, PromptText | None] = {
            "no_input": self._prompt("no_input"),
            "no_match": self._prompt("no_match"),
        }
        self.retries = int(spec.get("retries", self.default_retries))
        self.timeout_s = float(spec.get("timeout", 5))

    def on_choice(self, ctx: VerbCtx, option: Option) -> Result:
        raise NotImplementedError

    def on_failure(self, ctx: VerbCtx) -> Result:
        raise NotImplementedError

    def intro(self, ctx: VerbCtx) -> tuple[Prompt, ...]:
        return ctx.render(self.prompt)

    def prompt_fields(self) -> list[tuple[RelPath, PromptText]]:
        fields = {"prompt": self.prompt, **self.retry_prompts}
        return [((key,), text) for key, text in fields.items() if text is not None]

    # --- run time ---
    def start(self, ctx: VerbCtx) -> Result:
        ctx.local["attempts"] = 0
        return Result(self._ask(ctx, ()))

    def listen_languages(self, ctx: VerbCtx) -> tuple[str, ...]:
        """Languages the caller may answer in here: the call's own, unless a verb knows better."""
        return (ctx.lang,)

    def _ask(self, ctx: VerbCtx, before: tuple[Prompt, ...], *, relisten: bool = False) -> list[Command]:
        """Play ``before`` and the prompt; listen for the options' words unless already listening for
        them (``relisten``: the words were changed meanwhile) or the node fell back to keys only."""
        cmds: list[Command] = [ctx.play(before + self.intro(ctx), barge_in=True)]
        if ctx.keys_only:
            return cmds
        if relisten or not ctx.local.get("listening"):
            for lang in self.listen_languages(ctx):
                cmds += ctx.listen(tuple(w for o in self.choices for w in words_for(o.words, lang)), lang)
        return cmds

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.is_my_playback(event):
            return Result([ctx.start_timer("input", self.timeout_s)])
        if ctx.fired(event, "input"):
            return self._fail(ctx, "no_input")
        if isinstance(event, DtmfReceived):
            cmds = ctx.stop_playback() + ctx.cancel_timer("input")
            for option in self.choices:
                if option.key is not None and option.key == event.digit:
                    return self._chosen(ctx, option, "dtmf", event.digit, cmds)
            res = self._fail(ctx, "no_match")
            return Result(cmds + res.commands, res.transition)
        if isinstance(event, SpeechDropped):
            return self._keys_only(ctx)
        if isinstance(event, SpeechRecognized) and not ctx.keys_only:
            lang = event.lang if event.lang in self.listen_languages(ctx) else ctx.lang
            for option in self.choices:
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

    def _keys_only(self, ctx: VerbCtx) -> Result:
        """The recogniser pool was full: a no match, asked again without listening (never silence)."""
        cmds = ctx.fall_back_to_keys() + ctx.stop_playback() + ctx.cancel_timer("input")
        res = self._fail(ctx, "no_match")
        return Result(cmds + res.commands, res.transition)

    def _fail(self, ctx: VerbCtx, why: str, *, relisten: bool = False) -> Result:
        ctx.local["attempts"] = int(ctx.local.get("attempts", 0)) + 1
        if ctx.local["attempts"] > self.retries:
            return self.on_failure(ctx)
        return Result(self._ask(ctx, ctx.render(self.retry_prompts[why]), relisten=relisten))
