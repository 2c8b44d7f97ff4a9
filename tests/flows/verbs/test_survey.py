"""``survey``: a 1–5 satisfaction score by key or voice; SurveyAnswered, then ``next``."""

from __future__ import annotations

import pytest

from ivr.flows import commands as c
from ivr.flows.prompts import Speak

from .drive import Call, load

FLOW = """
name: t
languages: [ja, en]
default_language: en
entry: ask
nodes:
  ask:
    type: survey
    prompt: {ja: いちから ごで おこたえください。, en: Score us from 1 to 5.}
    no_match: {ja: もういちど。, en: "From 1 to 5, please."}
    timeout: 6
    next: thanks
  thanks: {type: hangup, outcome: completed}
"""


def test_asks_and_listens_for_the_five_scores() -> None:
    call = Call(load(FLOW))
    assert call.log[2:] == [
        c.NodeEntered("ask"),
        c.Play("play-1", (Speak("Score us from 1 to 5.", "en"),), barge_in=True),
        c.ListenSpeech("en", ("one", "two", "three", "four", "five")),
    ]
    assert call.prompt_ends() == [c.StartTimer("ask#1:input", 6.0)]


@pytest.mark.parametrize("key", list("12345"))
def test_a_key_is_the_score(key: str) -> None:
    call = Call(load(FLOW))
    assert call.press(key) == [
        c.StopPlayback("play-1"),
        c.InputTaken("ask", "dtmf", key),
        c.SurveyAnswered(int(key)),
        c.OutcomeSet("completed"),
        c.ListenSpeech("en", ()),
        c.NodeEntered("thanks"),
        c.OutcomeSet("completed"),
        c.Hangup(),
    ]
    assert call.state.vars["survey.score"] == key
    assert call.path == ["ask", "thanks"]


@pytest.mark.parametrize(("said", "lang", "score"), [("five", "en", 5), ("Two.", "en", 2), ("よん", "ja", 4)])
def test_a_spoken_number_is_the_score(said: str, lang: str, score: int) -> None:
    call = Call(load(FLOW), lang=lang)
    call.say(said, lang)
    assert call.of(c.SurveyAnswered) == [c.SurveyAnswered(score)]
    assert call.of(c.InputTaken) == [c.InputTaken("ask", "speech", said)]


def test_a_key_out_of_range_asks_again_then_gives_up_without_a_score() -> None:
    call = Call(load(FLOW))
    assert call.press("7") == [
        c.StopPlayback("play-1"),
        c.Play("play-2", (Speak("From 1 to 5, please.", "en"), Speak("Score us from 1 to 5.", "en")), True),
    ]
    assert call.press("0") == [  # one retry by default: the second miss moves on without a score
        c.StopPlayback("play-2"),
        c.ListenSpeech("en", ()),
        c.NodeEntered("thanks"),
        c.OutcomeSet("completed"),
        c.Hangup(),
    ]
    assert call.of(c.SurveyAnswered) == [] and "survey.score" not in call.state.vars
