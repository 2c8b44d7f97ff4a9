"""``ivr flows simulate`` input tokens for spoken input, and walks of the shop's order-status line with a
spoken order number and a spoken yes (the same engine as real calls)."""

from __future__ import annotations

from ivr.asr.grammar import DIGITS
from ivr.flows import commands as c
from ivr.flows.events import DtmfReceived, SpeechDropped, SpeechRecognized
from ivr.flows.simulate import input_events
from ivr.flows.speech_rules import DIGITS_REQUEST


def test_say_prefix_makes_digits_speech() -> None:
    assert input_events("say:4271", "en") == [SpeechRecognized("4271", 1.0, "en")]
    assert input_events("SAY: yes", "ja") == [SpeechRecognized("yes", 1.0, "ja")]
    assert input_events("4271#", "en") == [DtmfReceived(k) for k in "4271#"]
    assert input_events("asr-busy", "en") == [SpeechDropped("en")]


def test_the_flows_digit_request_is_the_recognisers() -> None:
    assert DIGITS_REQUEST == DIGITS


def test_spoken_order_number_is_read_back_confirmed_by_voice_and_looked_up(run) -> None:
    r = run("2,1,2,say:4271,yes,9")
    assert c.ListenSpeech("en", (DIGITS_REQUEST,)) in r.commands
    taken = [(i.node_id, i.kind, i.value) for i in r.of(c.InputTaken)]
    assert ("order_number", "speech", "4271") in taken and ("confirm_order", "speech", "yes") in taken
    assert "four two seven one" in r.text
    assert r.of(c.HttpLookup)[0].url.endswith("/orders/4271")
    assert r.state.path[-5:] == ["confirm_order", "order_lookup", "order_status", "after_status", "goodbye"]


def test_japanese_order_number_is_keys_first(run) -> None:
    r = run("1,1,2,say:4271,4271#,はい,9")
    assert not any(x.words == (DIGITS_REQUEST,) for x in r.of(c.ListenSpeech))
    taken = [(i.node_id, i.kind, i.value) for i in r.of(c.InputTaken)]
    assert ("order_number", "dtmf", "4271") in taken and ("confirm_order", "speech", "はい") in taken
    assert "order_lookup" in r.state.path


def test_busy_recogniser_at_the_order_number_re_prompts_for_keys(run) -> None:
    r = run("2,1,2,asr-busy,4271#,1,9")
    assert r.state.path.count("order_number") == 1
    assert r.text.count("Please enter your order number") == 2  # asked again, never silence
    assert ("order_number", "dtmf", "4271") in [(i.node_id, i.kind, i.value) for i in r.of(c.InputTaken)]
    assert "order_lookup" in r.state.path
