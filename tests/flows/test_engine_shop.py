"""Walks of the shipped flows through the real engine (driven by the simulator's command loop)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ivr.flows import commands as c
from ivr.flows.engine import CallContext, FlowEngine
from ivr.flows.events import DtmfReceived, PlaybackDone, SpeechRecognized, TimerFired
from ivr.prompts import Digits

from .conftest import CLOSED, HOLIDAY, OPEN, down_lookup, not_found_lookup


@pytest.mark.parametrize(
    ("keys", "queue"),
    [("1,1", "orders"), ("2", "returns"), ("3", "complaints"), ("4", "inquiries"), ("0", "operator")],
)
def test_every_main_menu_key_reaches_its_queue(run, keys: str, queue: str) -> None:
    r = run(f"2,{keys},9")
    assert [q.queue for q in r.of(c.EnterQueue)] == [queue]
    assert "no_agents" in r.state.path  # the ACD stub answers no_agents: the caller is offered options
    assert r.state.finished


@pytest.mark.parametrize(
    ("word", "lang", "queue"),
    [("ちゅうもん", "ja", None), ("返品", "ja", "returns"), ("Complaint", "en", "complaints"),
     ("ＯＰＥＲＡＴＯＲ", "en", "operator"), ("その他のことです", "ja", "inquiries")],
)  # fmt: skip
def test_main_menu_by_spoken_word(run, word: str, lang: str, queue: str | None) -> None:
    check = ",はい" if lang == "ja" else ""  # a spoken Japanese choice is confirmed before acting
    r = run(f"{'1' if lang == 'ja' else '2'},{word}{check},9")
    assert r.state.path[3] == "main_menu"
    assert ("ですね？" in r.text) == (lang == "ja")
    if queue is None:
        assert r.state.path[4] == "orders_menu"
    else:
        assert [q.queue for q in r.of(c.EnterQueue)] == [queue]


def test_order_status_success_reads_back_and_says_status(run) -> None:
    r = run("2,1,2,4271#,yes,9")
    assert r.state.path[-5:] == ["confirm_order", "order_lookup", "order_status", "after_status", "goodbye"]
    digits = [p for play in r.of(c.Play) for p in play.prompts if isinstance(p, Digits)]
    assert digits == [Digits("4271", "en")]
    assert "four two seven one" in r.text
    assert "Your order is shipped." in r.text
    lookups = r.of(c.HttpLookup)
    assert lookups[0].url == "http://127.0.0.1:8080/demo/orders/4271"


def test_order_status_japanese_reads_seven_as_nana(run) -> None:
    r = run("1,1,2,4717#,はい,9", lookup=not_found_lookup)
    assert "よん、なな、いち、なな" in r.text
    assert "order_not_found" in r.state.path and r.state.lang == "ja"


def test_order_number_rejected_then_corrected(run) -> None:
    r = run("2,1,2,4271#,2,5555#,1,0,-,-")
    assert r.state.path.count("order_number") == 2
    assert r.state.vars["order_number"] == "5555"


def test_order_lookup_not_found(run) -> None:
    r = run("2,1,2,9999#,1,9", lookup=not_found_lookup)
    assert "order_not_found" in r.state.path
    assert "could not find" in r.text


def test_order_lookup_failure_goes_to_operator(run) -> None:
    r = run("2,1,2,4271#,1,-,-", lookup=down_lookup)
    assert "lookup_failed" in r.state.path
    assert [q.queue for q in r.of(c.EnterQueue)] == ["operator"]


def test_menu_retries_then_default(run) -> None:
    r = run("2,7,-,8")  # no match, no input, no match → default (operator)
    assert r.state.path[3:].count("main_menu") == 1
    assert [q.queue for q in r.of(c.EnterQueue)] == ["operator"]
    assert "Sorry, that is not an option." in r.text and "Sorry, I did not hear anything." in r.text


def test_language_choice_timeout_keeps_default(run) -> None:
    r = run("-,-,0")
    assert r.state.lang == "ja"
    assert [q.queue for q in r.of(c.EnterQueue)] == ["operator"]


@pytest.mark.parametrize(("now", "expected"), [(CLOSED, "after_hours"), (HOLIDAY, "after_hours")])
def test_hours_closed_and_holiday(run, now: datetime, expected: str) -> None:
    r = run("2,1", now=now)
    assert r.state.path[2:4] == ["business_hours", expected]
    assert "opening hours are weekdays" in r.text
    assert any(isinstance(x, c.RecordMessage) for x in r.commands)
    assert c.OutcomeSet("voicemail") in r.commands


def test_after_hours_callback(run) -> None:
    r = run("2,2,3", now=CLOSED)
    assert c.CallbackRequested("0312345678", "evening", None) in r.commands


def test_survey_after_agent_hangs_up(run) -> None:
    r = run("2,0,4", queue_outcome="answered")
    assert c.SurveyAnswered(4) in r.commands
    assert r.state.path[-2:] == ["survey/ask", "survey/thanks"]
    assert r.state.finished


def test_echo_line(run) -> None:
    r = run("4271#", flow="echo")
    assert r.state.path == ["hello", "digits", "readback", "bye"]
    assert "four two seven one" in r.text
    r = run("12,-", flow="echo")  # 5 s after the last digit
    assert "one two" in r.text


def test_engine_is_pure_and_ignores_stale_events(flows) -> None:
    engine = FlowEngine(flows["echo"])
    now = datetime(2025, 1, 1, tzinfo=UTC)
    step = engine.start(CallContext("c1", "0311112222", None, "100", None, now))
    assert step.commands[0] == c.Answer()
    before = step.state
    same = engine.step(before, TimerFired("nope"), now)
    assert same.commands == [] and before.node == "hello"
    play = next(x for x in step.commands if isinstance(x, c.Play))
    after = engine.step(before, PlaybackDone(play.play_id), now)
    assert before.node == "hello" and after.state.node == "digits"  # the given state is never mutated
    assert c.NodeEntered("digits") in after.commands


def test_sensitive_collect_is_masked(tmp_path) -> None:
    from ivr.flows.loader import load_text

    flow, errors = load_text(
        """
name: card
languages: [en]
entry: card
nodes:
  card:
    type: collect
    prompt: Card number please
    var: card
    sensitive: true
    min_length: 16
    max_length: 16
    validate: {luhn: true}
    next: bye
  bye: {type: hangup}
""",
        tmp_path / "card.yaml",
    )
    assert flow is not None, errors
    now = datetime(2025, 1, 1, tzinfo=UTC)
    engine = FlowEngine(flow)
    step = engine.start(CallContext("c1", now=now))
    state = step.state
    commands = list(step.commands)
    for digit in "4111111111111111":
        step = engine.step(state, DtmfReceived(digit), now)
        state = step.state
        commands += step.commands
    taken = [x for x in commands if isinstance(x, c.InputTaken)]
    assert taken == [c.InputTaken("card", "dtmf", "•••• (16 digits)", True)]
    assert "4111111111111111" not in repr(commands)
    assert state.vars["card"] == "4111111111111111" and "card" in state.sensitive_vars


def test_speech_during_prompt_is_ignored_when_unmatched(flows) -> None:
    engine = FlowEngine(flows["shop"])
    now = datetime(2025, 6, 2, 3, tzinfo=UTC)
    step = engine.start(CallContext("c1", now=now, lang="en"))
    play = next(x for x in step.commands if isinstance(x, c.Play))
    step = engine.step(step.state, PlaybackDone(play.play_id), now)  # → choose_language
    assert step.state.node == "choose_language"
    listen = [x for x in step.commands if isinstance(x, c.ListenSpeech)]
    assert listen and "English" in listen[0].words
    step2 = engine.step(step.state, SpeechRecognized("mumble", 0.4, "ja"), now)
    assert step2.commands == [] and step2.state.node == "choose_language"
    step3 = engine.step(step.state, SpeechRecognized("english", 0.9, "en"), now)
    assert step3.state.lang == "en" and c.SetLanguage("en") in step3.commands


def test_language_menu_listens_in_every_language_it_offers(flows) -> None:  # type: ignore[no-untyped-def]
    """A Japanese call hears the language menu; the caller answers "English" in English."""
    engine = FlowEngine(flows["shop"])
    step = engine.start(CallContext("c2", now=OPEN))
    assert step.state.lang == "ja"
    play = next(x for x in step.commands if isinstance(x, c.Play))
    step = engine.step(step.state, PlaybackDone(play.play_id), OPEN)
    listens = {x.lang: x.words for x in step.commands if isinstance(x, c.ListenSpeech)}
    assert set(listens) == {"ja", "en"}
    assert "English" in listens["en"] and "えいご" in listens["ja"]
    chosen = engine.step(step.state, SpeechRecognized("English", 0.8, "en"), OPEN)
    assert chosen.state.lang == "en"
    # leaving the node stops recognition in both languages
    stops = {x.lang for x in chosen.commands if isinstance(x, c.ListenSpeech) and not x.words}
    assert stops == {"ja", "en"}


def test_keys_typed_during_an_announcement_reach_the_next_menu(flows) -> None:  # type: ignore[no-untyped-def]
    """Type-ahead: "2" pressed during the greeting picks English at the language menu."""
    engine = FlowEngine(flows["shop"])
    step = engine.start(CallContext(call_id="t", now=OPEN))
    assert step.state.node == "greeting"
    greeting_play = next(x for x in step.commands if isinstance(x, c.Play))
    step = engine.step(step.state, DtmfReceived("2"), OPEN)
    assert step.commands == [] and step.state.typeahead == "2"
    step = engine.step(step.state, PlaybackDone(greeting_play.play_id), OPEN)
    # choose_language took the buffered key at once and moved on in English
    assert step.state.lang == "en"
    assert "choose_language" in step.state.path and step.state.path[-1] != "choose_language"
    assert step.state.typeahead == ""
