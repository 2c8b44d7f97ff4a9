"""``collect`` with ``speech: true``: a spoken digit string counts as keyed (first of the two wins),
validated the same; never on a sensitive node, never in Japanese; a full recogniser pool → keys only."""

from __future__ import annotations

import pytest

from ivr.flows import commands as c
from ivr.flows.events import SpeechDropped
from ivr.flows.prompts import Speak
from ivr.flows.speech_rules import DIGITS_REQUEST
from ivr.flows.verbs.collect import Collect

from .drive import Call, errors_of, load

ORDER = """
name: t
languages: [en, ja]
default_language: en
entry: num
nodes:
  num:
    type: collect
    prompt: {en: Your order number., ja: ご注文番号を押してください。}
    no_input: {en: I did not get any digits., ja: 番号が確認できませんでした。}
    invalid: {en: Order numbers have four to six digits., ja: 四桁から六桁です。}
    var: order
    speech: true
    min_length: 4
    max_length: 6
    validate: {pattern: "[1-9][0-9]*"}
    retries: 1
    next: ok
    on_failure: failed
  ok: {type: hangup}
  failed: {type: hangup}
"""

LISTEN = c.ListenSpeech("en", (DIGITS_REQUEST,))
STOP = c.ListenSpeech("en", ())
PROMPT = Speak("Your order number.", "en")


def test_listens_for_digits_while_the_prompt_plays_and_takes_a_spoken_number() -> None:
    call = Call(load(ORDER))
    assert call.last[-2:] == [c.Play("play-1", (PROMPT,), True), LISTEN]
    out = call.say("4271")  # during the prompt: barge-in
    assert out == [
        c.StopPlayback("play-1"),
        STOP,
        c.InputTaken("num", "speech", "4271"),
        c.NodeEntered("ok"),
        c.Hangup(),
    ]
    assert call.state.vars["order"] == "4271" and call.path == ["num", "ok"]


def test_spoken_digits_after_the_prompt_cancel_the_first_digit_timer() -> None:
    call = Call(load(ORDER))
    call.prompt_ends()
    out = call.say("42 71")
    assert c.CancelTimer("num#1:first") in out and STOP in out
    assert call.state.vars["order"] == "4271"


def test_a_key_first_stops_listening_and_later_speech_is_ignored() -> None:
    call = Call(load(ORDER))
    assert call.press("5") == [c.StopPlayback("play-1"), STOP, c.StartTimer("num#1:inter", 3.0)]
    assert call.say("9999") == []
    call.press("555#")
    assert call.of(c.InputTaken) == [c.InputTaken("num", "dtmf", "5555")]
    assert call.state.vars["order"] == "5555"


@pytest.mark.parametrize(
    ("said", "why"),
    [("42", "too short"), ("4271000", "longer than max_length"), ("0427", "against the pattern")],
)
def test_spoken_number_breaking_a_rule_is_invalid_and_asks_again_listening(said: str, why: str) -> None:
    call = Call(load(ORDER))
    out = call.say(said)
    assert c.InputTaken("num", "speech", said) in out, why
    assert out[-2:] == [
        c.Play("play-2", (Speak("Order numbers have four to six digits.", "en"), PROMPT), True),
        LISTEN,
    ]
    assert "order" not in call.state.vars
    call.say("4271")
    assert call.path == ["num", "ok"] and call.state.vars["order"] == "4271"


def test_speech_that_is_no_number_is_a_no_match_after_the_prompt_and_ignored_during_it() -> None:
    call = Call(load(ORDER))
    assert call.say("hello there") == []  # the prompt goes on
    call.prompt_ends()
    out = call.say("hello there")
    assert out[-2:] == [
        c.Play("play-2", (Speak("I did not get any digits.", "en"), PROMPT), True),
        LISTEN,
    ]
    assert call.of(c.InputTaken) == []
    call.prompt_ends()
    call.say("banana")  # retries: 1 → the second no match fails
    assert call.path == ["num", "failed"]


def test_no_input_asks_again_and_keeps_listening() -> None:
    call = Call(load(ORDER))
    call.prompt_ends()
    out = call.timer(":first")
    assert out == [
        c.Play("play-2", (Speak("I did not get any digits.", "en"), PROMPT), True)
    ]  # no 2nd listen
    call.say("4271")
    assert call.state.vars["order"] == "4271"


def test_full_recogniser_pool_falls_back_to_keys_only() -> None:
    call = Call(load(ORDER))
    call.prompt_ends()
    out = call.send(SpeechDropped("en"))
    assert out == [STOP, c.CancelTimer("num#1:first"), c.Play("play-2", (PROMPT,), True)]  # no ListenSpeech
    assert call.say("4271") == []  # not listening any more
    call.press("4271#")
    assert call.of(c.InputTaken) == [c.InputTaken("num", "dtmf", "4271")]


def test_japanese_call_does_not_listen_for_digits() -> None:
    call = Call(load(ORDER), lang="ja")
    assert call.of(c.ListenSpeech) == []
    assert call.say("4271", lang="ja") == []
    call.press("4271#")
    assert call.state.vars["order"] == "4271"


def test_without_speech_option_the_node_does_not_listen() -> None:
    call = Call(load(ORDER.replace("    speech: true\n", "")))
    assert call.of(c.ListenSpeech) == []
    assert call.say("4271") == []


CARD = """
name: t
languages: [en]
entry: card
nodes:
  card:
    type: collect
    prompt: Card number.
    var: card
    sensitive: true
    speech: true
    next: ok
  ok: {type: hangup}
"""


def test_sensitive_with_speech_is_a_load_error() -> None:
    assert errors_of(CARD) == [
        "nodes.card.speech: a sensitive collect never listens (card digits never reach speech recognition)"
    ]


def test_a_sensitive_collect_never_listens_even_if_built_with_speech() -> None:
    verb = Collect("card", {"prompt": "Card number.", "var": "card", "sensitive": True, "speech": True})
    assert not verb.speech
    call = Call(load(CARD.replace("    speech: true\n", "")))
    call.state.local["listening"] = ["en"]  # even a stray "listening" mark does not let speech in
    assert call.say("4111111111111111") == []
    assert "card" not in call.state.vars
