"""``callback``: ask for a preferred time by key or voice (or just announce), record the request."""

from __future__ import annotations

from ivr.flows import commands as c
from ivr.flows.prompts import Speak

from .drive import Call, load

ASK = "When should we call you? 1 for morning, 2 for afternoon."
FLOW = f"""
name: t
languages: [en]
entry: ask_time
nodes:
  ask_time:
    type: callback
    prompt: {ASK}
    no_input: Sorry, I did not hear you.
    times:
      "1": {{value: morning, words: {{en: [morning]}}}}
      "2": {{value: afternoon, words: {{en: [afternoon]}}}}
    number: "0{{caller.number}}"
    note: from the ivr
    next: bye
  bye: {{type: hangup}}
"""


def test_asks_with_barge_in_and_listens_for_the_times() -> None:
    call = Call(load(FLOW))
    assert call.log[2:] == [
        c.NodeEntered("ask_time"),
        c.Play("play-1", (Speak(ASK, "en"),), barge_in=True),
        c.ListenSpeech("en", ("morning", "afternoon")),
    ]


def test_a_key_picks_the_time_and_records_the_request() -> None:
    call = Call(load(FLOW), caller="312345678")
    assert call.press("2") == [
        c.StopPlayback("play-1"),
        c.InputTaken("ask_time", "dtmf", "2"),
        c.CallbackRequested("0312345678", "afternoon", "from the ivr"),
        c.OutcomeSet("callback"),
        c.ListenSpeech("en", ()),
        c.NodeEntered("bye"),
        c.Hangup(),
    ]
    assert call.path == ["ask_time", "bye"]


def test_a_spoken_time_picks_it_too() -> None:
    call = Call(load(FLOW))
    out = call.say("afternoon please")
    assert out[:3] == [
        c.StopPlayback("play-1"),
        c.InputTaken("ask_time", "speech", "afternoon please"),
        c.CallbackRequested("00312345678", "afternoon", "from the ivr"),
    ]


def test_no_answer_after_one_retry_records_a_request_without_time() -> None:
    call = Call(load(FLOW))
    assert call.prompt_ends() == [c.StartTimer("ask_time#1:input", 5.0)]
    assert call.timer(":input") == [
        c.Play("play-2", (Speak("Sorry, I did not hear you.", "en"), Speak(ASK, "en")), barge_in=True)
    ]
    call.prompt_ends()
    assert call.timer(":input")[:2] == [
        c.CallbackRequested("00312345678", None, "from the ivr"),
        c.OutcomeSet("callback"),
    ]
    assert call.path == ["ask_time", "bye"]


def test_a_key_that_is_no_time_asks_again() -> None:
    call = Call(load(FLOW))
    assert call.press("9") == [c.StopPlayback("play-1"), c.Play("play-2", (Speak(ASK, "en"),), barge_in=True)]
    assert call.of(c.CallbackRequested) == []


def test_without_times_it_announces_then_records() -> None:
    text = """
    name: t
    languages: [en]
    entry: cb
    nodes:
      cb: {type: callback, prompt: We will call you back., next: bye}
      bye: {type: hangup}
    """
    call = Call(load(text), caller="0399998888")
    assert call.log[2:] == [
        c.NodeEntered("cb"),
        c.Play("play-1", (Speak("We will call you back.", "en"),), False),
    ]
    assert call.press("1") == []  # nothing to choose: keys are kept for later, not an answer
    assert call.prompt_ends()[:2] == [c.CallbackRequested("0399998888", None, None), c.OutcomeSet("callback")]
    assert call.path == ["cb", "bye"]
