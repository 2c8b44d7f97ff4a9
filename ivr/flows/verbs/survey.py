"""``survey``: customer satisfaction 1–5 by key or voice after the call."""

from __future__ import annotations

from typing import Any, ClassVar

from ivr.flows.commands import OutcomeSet, SurveyAnswered
from ivr.flows.verbs._choice import CHOICE_SCHEMA, ChoiceVerb, Option
from ivr.flows.verbs.base import NODE_REF, Edge, Result, VerbCtx

_WORDS = {
    "1": {"ja": ("いち", "一"), "en": ("one",)},
    "2": {"ja": ("に", "二"), "en": ("two",)},
    "3": {"ja": ("さん", "三"), "en": ("three",)},
    "4": {"ja": ("よん", "四"), "en": ("four",)},
    "5": {"ja": ("ご", "五"), "en": ("five",)},
}


class Survey(ChoiceVerb):
    type_name = "survey"
    description = "Ask for a 1–5 satisfaction score; records SurveyAnswered, then `next`."
    schema: ClassVar[dict[str, Any]] = {**CHOICE_SCHEMA, "next": NODE_REF}
    required = ("prompt",)
    default_retries = 1

    choices = tuple(Option(k, dict(w), k) for k, w in _WORDS.items())

    def on_choice(self, ctx: VerbCtx, option: Option) -> Result:
        ctx.vars["survey.score"] = option.value
        return Result([SurveyAnswered(int(option.value)), OutcomeSet("completed")], self._next())

    def on_failure(self, ctx: VerbCtx) -> Result:
        return Result(transition=self._next())

    def defined_vars(self) -> set[str]:
        return {"survey.score"}

    def targets(self) -> list[Edge]:
        return self._edge("next", "next")
