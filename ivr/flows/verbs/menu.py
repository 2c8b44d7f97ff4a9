"""``menu``: options by DTMF key and by spoken words; retries; a default after N failures.

In a language of ``CONFIRM_SPOKEN_CHOICE`` (Japanese, until its recognition meets the English bar) a
spoken choice is checked before the call acts on it: "返品ですね？" — yes (spoken, or key 1) acts; no
(key 2), anything else or nothing asks the menu again (a no match / no input, counted as a try).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.commands import Command, InputTaken
from ivr.flows.events import DtmfReceived, Event, SpeechDropped, SpeechRecognized
from ivr.flows.promptspec import parse_words
from ivr.flows.speech_rules import (
    CONFIRM_SPOKEN_CHOICE,
    NO_KEY,
    NO_WORDS,
    YES_KEY,
    YES_WORDS,
    spoken_choice_question,
)
from ivr.flows.verbs._choice import CHOICE_SCHEMA, ChoiceVerb, Option
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    NODE_REF,
    WORDS_SCHEMA,
    CheckEnv,
    Edge,
    Finish,
    Go,
    Result,
    VerbCtx,
    optional_text,
    speech_matches,
    words_for,
)
from ivr.prompts import Speak


class Menu(ChoiceVerb):
    type_name = "menu"
    description = "Offer options by key and by voice; after too many failures go to `default`."
    schema: ClassVar[dict[str, Any]] = {
        **CHOICE_SCHEMA,
        "options": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[0-9*#A-D]$"},
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["goto"],
                "properties": {
                    "goto": NODE_REF,
                    "words": WORDS_SCHEMA,
                    "label": {"type": "string", "description": "shown on graph edges"},
                },
            },
        },
        "default": {**NODE_REF, "description": "where to go after the last failed try (else hang up)"},
    }
    required = ("prompt", "options")

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.choices = tuple(
            Option(str(key), parse_words(opt.get("words")), str(opt["goto"]))
            for key, opt in spec["options"].items()
        )
        self.default_node = optional_text(spec, "default")

    def on_choice(self, ctx: VerbCtx, option: Option) -> Result:
        return Result(transition=Go(option.value))

    # --- checking a spoken choice (CONFIRM_SPOKEN_CHOICE) ---
    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.local.get("checking") is None:
            return super().on_event(ctx, event)
        return self._check_answer(ctx, event)

    def _chosen(self, ctx: VerbCtx, option: Option, kind: str, raw: str, cmds: list[Command]) -> Result:
        if kind != "speech" or ctx.lang not in CONFIRM_SPOKEN_CHOICE:
            return super()._chosen(ctx, option, kind, raw, cmds)
        ctx.local["checking"] = self.choices.index(option)
        ctx.local["heard"] = raw
        said = words_for(option.words, ctx.lang)
        question = spoken_choice_question(said[0] if said else raw, ctx.lang)
        cmds = [*cmds, ctx.play((Speak(question, ctx.lang),), barge_in=True)]
        if not ctx.keys_only:
            cmds += ctx.listen(YES_WORDS.get(ctx.lang, ()) + NO_WORDS.get(ctx.lang, ()))
        return Result(cmds)

    def _check_answer(self, ctx: VerbCtx, event: Event) -> Result:
        if ctx.is_my_playback(event):
            return Result([ctx.start_timer("input", self.timeout_s)])
        if ctx.fired(event, "input"):
            return self._back_to_menu(ctx, "no_input", [])
        answer: bool | None = None
        dropped: list[Command] = []
        if isinstance(event, DtmfReceived):
            answer = {YES_KEY: True, NO_KEY: False}.get(event.digit)
        elif isinstance(event, SpeechRecognized) and not ctx.keys_only:
            if any(speech_matches(event.text, w) for w in YES_WORDS.get(ctx.lang, ())):
                answer = True
            elif any(speech_matches(event.text, w) for w in NO_WORDS.get(ctx.lang, ())):
                answer = False
            elif ctx.playing:  # speech we cannot use during the question: let it go on
                return Result()
        elif isinstance(event, SpeechDropped):
            dropped = ctx.fall_back_to_keys()
        else:
            return Result()
        cmds = dropped + ctx.stop_playback() + ctx.cancel_timer("input")
        if answer is True:
            option = self.choices[int(ctx.local.pop("checking"))]
            cmds.append(InputTaken(self.node_id, "speech", str(ctx.local.pop("heard", ""))))
            res = self.on_choice(ctx, option)
            return Result(cmds + res.commands, res.transition)
        return self._back_to_menu(ctx, "no_match", cmds)

    def _back_to_menu(self, ctx: VerbCtx, why: str, cmds: list[Command]) -> Result:
        """No, no answer or no match at the check: the menu again (a failed try), listening for its words."""
        ctx.local.pop("checking", None)
        ctx.local.pop("heard", None)
        res = self._fail(ctx, why, relisten=True)
        return Result(cmds + res.commands, res.transition)

    def on_failure(self, ctx: VerbCtx) -> Result:
        return Result(transition=Go(self.default_node) if self.default_node else Finish("failed"))

    def targets(self) -> list[Edge]:
        edges = []
        for key, opt in self.spec["options"].items():
            words = parse_words(opt.get("words"))
            first = [ws[0] for ws in words.values() if ws]
            label = str(opt.get("label") or " / ".join([str(key), *first]))
            edges.append(Edge(label, str(opt["goto"]), ("options", str(key), "goto")))
        return edges + self._edge("default", "default")
