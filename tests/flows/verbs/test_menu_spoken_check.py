"""A spoken menu choice in a ``CONFIRM_SPOKEN_CHOICE`` language (Japanese) is checked before acting:
"返品ですね？" — はい or 1 acts; いいえ, 2, anything else or nothing asks the menu again (a try)."""

from __future__ import annotations

from ivr.flows import commands as c
from ivr.flows.events import SpeechDropped
from ivr.flows.prompts import Speak
from ivr.flows.speech_rules import CONFIRM_SPOKEN_CHOICE, spoken_choice_question

from .drive import Call, load

MENU = """
name: t
languages: [ja, en]
entry: main
nodes:
  main:
    type: menu
    prompt: {ja: ご用件をどうぞ。, en: "What do you need?"}
    no_input: {ja: お答えが確認できませんでした。, en: I did not hear you.}
    no_match: {ja: もう一度お願いします。, en: That is not an option.}
    retries: 1
    options:
      "1": {goto: orders, words: {ja: [注文, ちゅうもん], en: [order]}}
      "2": {goto: returns, words: {ja: [返品, へんぴん], en: [return]}}
    default: operator
  orders: {type: hangup}
  returns: {type: hangup}
  operator: {type: hangup}
"""

MENU_WORDS = ("注文", "ちゅうもん", "返品", "へんぴん")
MAIN = Speak("ご用件をどうぞ。", "ja")


def spoken_return(call: Call) -> list[c.Command]:
    call.prompt_ends()
    return call.say("へんぴん", lang="ja")


def test_japanese_spoken_choice_is_checked_before_acting() -> None:
    assert "ja" in CONFIRM_SPOKEN_CHOICE
    call = Call(load(MENU), lang="ja")
    out = spoken_return(call)
    question = Speak("返品ですね？ はいは1番、いいえは2番を押してください。", "ja")
    assert question.text == spoken_choice_question("返品", "ja")
    assert c.Play("play-2", (question,), True) in out
    (listen,) = [x for x in out if isinstance(x, c.ListenSpeech)]
    assert {"はい", "いいえ"} <= set(listen.words) and "返品" not in listen.words
    assert call.path == ["main"] and call.of(c.InputTaken) == []  # nothing acted on yet
    call.prompt_ends()
    out = call.say("はい", lang="ja")
    assert c.InputTaken("main", "speech", "へんぴん") in out
    assert call.path == ["main", "returns"]


def test_key_1_acts_on_the_checked_choice() -> None:
    call = Call(load(MENU), lang="ja")
    spoken_return(call)
    call.press("1")  # yes — not option 1 (orders)
    assert call.path == ["main", "returns"]


def test_no_asks_the_menu_again_listening_for_its_words() -> None:
    for answer in ("いいえ", "2"):
        call = Call(load(MENU), lang="ja")
        spoken_return(call)
        out = call.press(answer) if answer.isdigit() else call.say(answer, lang="ja")
        assert call.path == ["main"]
        assert c.Play("play-3", (Speak("もう一度お願いします。", "ja"), MAIN), True) in out
        assert c.ListenSpeech("ja", MENU_WORDS) in out
        call.prompt_ends()
        call.press("1")  # the menu's own keys again
        assert call.path == ["main", "orders"]


def test_no_answer_to_the_check_is_no_input_and_a_second_failure_takes_the_default() -> None:
    call = Call(load(MENU), lang="ja")
    spoken_return(call)
    call.prompt_ends()
    out = call.timer(":input")
    assert c.Play("play-3", (Speak("お答えが確認できませんでした。", "ja"), MAIN), True) in out
    spoken_return(call)
    call.prompt_ends()
    call.say("ぜんぜんちがうこと", lang="ja")  # no match at the check: the second failure (retries: 1)
    assert call.path == ["main", "operator"]


def test_unusable_speech_during_the_question_lets_it_play_on() -> None:
    call = Call(load(MENU), lang="ja")
    spoken_return(call)
    assert call.say("えーと", lang="ja") == []


def test_keys_at_the_japanese_menu_and_english_speech_are_not_checked() -> None:
    call = Call(load(MENU), lang="ja")
    call.press("2")
    assert call.path == ["main", "returns"]
    call = Call(load(MENU), lang="en")
    call.prompt_ends()
    call.say("return")
    assert call.path == ["main", "returns"]
    assert not any(
        "is that right" in p.text for x in call.of(c.Play) for p in x.prompts if isinstance(p, Speak)
    )


def test_full_pool_during_the_check_asks_the_menu_again_with_keys_only() -> None:
    call = Call(load(MENU), lang="ja")
    spoken_return(call)
    out = call.send(SpeechDropped("ja"))
    assert out[0] == c.ListenSpeech("ja", ())
    assert not any(isinstance(x, c.ListenSpeech) for x in out[1:])
    assert call.say("はい", lang="ja") == [] and call.path == ["main"]
    call.press("2")
    assert call.path == ["main", "returns"]


def test_full_pool_at_an_english_menu_is_a_no_match_then_keys_only() -> None:
    call = Call(load(MENU), lang="en")
    call.prompt_ends()
    out = call.send(SpeechDropped("en"))
    assert out == [
        c.ListenSpeech("en", ()),
        c.CancelTimer("main#1:input"),
        c.Play("play-2", (Speak("That is not an option.", "en"), Speak("What do you need?", "en")), True),
    ]
    call.prompt_ends()
    assert call.say("order") == []
    call.timer(":input")  # no input → the last try (retries: 1) fails → default
    assert call.path == ["main", "operator"]
