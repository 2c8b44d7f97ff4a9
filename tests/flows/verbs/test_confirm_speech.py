"""``confirm`` answered by voice in the call's language (yes/yeah/correct/no/nope; はい/ええ/そうです/
いいえ/ちがいます) as well as by its keys; a full recogniser pool → asked again for keys only."""

from __future__ import annotations

import pytest

from ivr.flows import commands as c
from ivr.flows.events import SpeechDropped

from .drive import Call, load

CONFIRM = """
name: t
languages: [en, ja]
default_language: en
entry: check
vars: {num: "4271"}
nodes:
  check:
    type: confirm
    var: num
    prompt: {en: You said, ja: ご注文番号は}
    question: {en: "Is that right?", ja: でよろしいですか。}
    retries: 1
    yes: yes_node
    no: no_node
  yes_node: {type: hangup}
  no_node: {type: hangup}
"""


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_listens_for_yes_and_no_words_in_the_calls_language(lang: str) -> None:
    call = Call(load(CONFIRM), lang=lang)
    (listen,) = call.of(c.ListenSpeech)
    assert listen.lang == lang
    expected = {
        "en": {"yes", "yeah", "correct", "no", "nope"},
        "ja": {"はい", "ええ", "そうです", "いいえ", "ちがいます"},
    }
    assert expected[lang] <= set(listen.words)


@pytest.mark.parametrize(
    ("said", "lang", "goes_to"),
    [("yes", "en", "yes_node"), ("Yeah.", "en", "yes_node"), ("correct", "en", "yes_node"),
     ("no", "en", "no_node"), ("nope", "en", "no_node"),
     ("はい", "ja", "yes_node"), ("ええ", "ja", "yes_node"), ("そうです", "ja", "yes_node"),
     ("いいえ", "ja", "no_node"), ("ちがいます", "ja", "no_node")],
)  # fmt: skip
def test_spoken_answer_decides(said: str, lang: str, goes_to: str) -> None:
    call = Call(load(CONFIRM), lang=lang)
    call.prompt_ends()
    out = call.say(said, lang=lang)
    assert c.InputTaken("check", "speech", said) in out and c.ListenSpeech(lang, ()) in out
    assert call.path == ["check", goes_to]


def test_keys_still_answer() -> None:
    call = Call(load(CONFIRM))
    call.press("2")
    assert call.path == ["check", "no_node"]
    assert call.of(c.InputTaken) == [c.InputTaken("check", "dtmf", "2")]


def test_full_pool_asks_again_with_keys_only() -> None:
    call = Call(load(CONFIRM))
    call.prompt_ends()
    out = call.send(SpeechDropped("en"))
    assert out[0] == c.ListenSpeech("en", ())
    assert isinstance(out[-1], c.Play) and not any(isinstance(x, c.ListenSpeech) for x in out[1:])
    assert call.say("yes") == []  # keys only now
    call.press("1")
    assert call.path == ["check", "yes_node"]
