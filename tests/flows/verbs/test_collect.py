"""``collect``: digits with length limits, terminator, timers and validation (Luhn, mod-11, pattern);
a sensitive value is masked in every InputTaken, valid or not."""

from __future__ import annotations

import pytest

from ivr.flows import commands as c
from ivr.flows.prompts import Speak

from .drive import Call, load

CARD = """
name: pay
languages: [en]
entry: card
nodes:
  card:
    type: collect
    prompt: Card number, then hash.
    invalid: That number is not valid.
    var: card
    sensitive: true
    min_length: 16
    max_length: 19
    validate: {luhn: true}
    retries: 1
    next: ok
    on_failure: failed
  ok: {type: hangup, outcome: completed}
  failed: {type: hangup, outcome: failed}
"""

VALID_CARD = "4111111111111111"
INVALID_CARD = "4111111111111112"  # one digit off: fails the Luhn check
MASKED = "•••• (16 digits)"


def test_valid_card_is_accepted_and_masked() -> None:
    call = Call(load(CARD))
    call.prompt_ends()
    out = call.press(VALID_CARD + "#")
    assert call.of(c.InputTaken) == [c.InputTaken("card", "dtmf", MASKED, True)]
    assert out[-4:] == [
        c.InputTaken("card", "dtmf", MASKED, True),
        c.NodeEntered("ok"),
        c.OutcomeSet("completed"),
        c.Hangup(),
    ]
    assert call.path == ["card", "ok"]
    assert call.state.vars["card"] == VALID_CARD and "card" in call.state.sensitive_vars
    assert VALID_CARD not in repr(call.log)


def test_invalid_card_is_rejected_and_still_masked() -> None:
    call = Call(load(CARD))
    call.prompt_ends()
    out = call.press(INVALID_CARD + "#")
    assert out[-2:] == [
        c.InputTaken("card", "dtmf", MASKED, True),
        c.Play("play-2", (Speak("That number is not valid.", "en"), Speak("Card number, then hash.", "en"))),
    ]
    assert INVALID_CARD not in repr(call.log)
    assert call.path == ["card"] and "card" not in call.state.vars
    call.press(INVALID_CARD + "#")  # retries: 1 → the second invalid number takes on_failure
    assert call.path == ["card", "failed"]
    assert call.of(c.InputTaken) == [c.InputTaken("card", "dtmf", MASKED, True)] * 2
    assert INVALID_CARD not in repr(call.log) and "card" not in call.state.vars


def test_invalid_then_valid_card() -> None:
    call = Call(load(CARD))
    call.press(INVALID_CARD + "#")
    call.press(VALID_CARD + "#")
    assert call.path == ["card", "ok"] and call.state.vars["card"] == VALID_CARD


def check_flow(rule: str, *, min_length: int = 1) -> str:
    return f"""
    name: t
    languages: [en]
    entry: num
    nodes:
      num:
        type: collect
        prompt: Number please.
        var: num
        min_length: {min_length}
        validate: {rule}
        retries: 0
        next: ok
        on_failure: failed
      ok: {{type: hangup}}
      failed: {{type: hangup}}
    """


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("79927398713", True),
        ("79927398710", False),
        ("4012888888881881", True),
        ("4012888888881882", False),
        ("5555555555554444", True),
        ("5555555555554440", False),
        ("0", True),
        ("1", False),
    ],
)
def test_luhn(digits: str, valid: bool) -> None:
    call = Call(load(check_flow("{luhn: true}")))
    call.press(digits + "#")
    assert call.of(c.InputTaken) == [c.InputTaken("num", "dtmf", digits)]  # not sensitive: shown as is
    assert call.path == ["num", "ok" if valid else "failed"]
    assert (call.state.vars.get("num") == digits) is valid


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        ("1234560", True),  # 6·2+5·3+4·4+3·5+2·6+1·7 = 77 ≡ 0 (mod 11) → check digit 0
        ("1234561", False),
        ("124", True),  # 2·2+1·3 = 7 → 11−7 = 4
        ("125", False),
        ("51", True),  # 5·2 = 10 → 11−10 = 1
        ("60", False),  # 6·2 = 12 ≡ 1 → check would be 10: no digit is valid
        ("61", False),
        ("7", False),  # too short to carry a check digit
    ],
)
def test_mod11_checksum(digits: str, valid: bool) -> None:
    call = Call(load(check_flow("{checksum: mod11}")))
    call.press(digits + "#")
    assert call.path == ["num", "ok" if valid else "failed"]


@pytest.mark.parametrize(("digits", "valid"), [("4271", True), ("0427", False), ("42", False)])
def test_pattern_and_min_length(digits: str, valid: bool) -> None:
    call = Call(load(check_flow('{pattern: "[1-9][0-9]*"}', min_length=3)))
    call.press(digits + "#")
    assert call.path == ["num", "ok" if valid else "failed"]


TIMED = """
name: t
languages: [en]
entry: num
nodes:
  num:
    type: collect
    prompt: Number please.
    no_input: I did not hear anything.
    var: num
    max_length: 4
    terminator: "*"
    timeout: 7
    inter_digit_timeout: 2
    overall_timeout: 20
    retries: 1
    next: ok
    on_failure: failed
  ok: {type: hangup}
  failed: {type: hangup}
"""


def test_timers_after_the_prompt_and_between_digits() -> None:
    call = Call(load(TIMED))
    assert call.prompt_ends() == [c.StartTimer("num#1:first", 7.0), c.StartTimer("num#1:overall", 20.0)]
    assert call.press("4") == [c.CancelTimer("num#1:first"), c.StartTimer("num#1:inter", 2.0)]
    assert call.press("2") == [c.StartTimer("num#1:inter", 2.0)]
    assert call.timer(":inter") == [
        c.CancelTimer("num#1:overall"),
        c.InputTaken("num", "dtmf", "42"),
        c.NodeEntered("ok"),
        c.Hangup(),
    ]
    assert call.state.vars["num"] == "42"


def test_terminator_and_max_length_end_the_input() -> None:
    call = Call(load(TIMED))
    call.press("7*")
    assert call.state.vars["num"] == "7" and call.path == ["num", "ok"]
    call = Call(load(TIMED))
    call.press("12345")  # the fourth digit completes; the fifth arrives after the call ended
    assert call.state.vars["num"] == "1234"
    call = Call(load(TIMED))
    call.prompt_ends()
    call.press("9")
    call.timer(":overall")
    assert call.state.vars["num"] == "9"


def test_no_input_asks_again_then_fails() -> None:
    call = Call(load(TIMED))
    call.prompt_ends()
    assert call.timer(":first") == [
        c.Play("play-2", (Speak("I did not hear anything.", "en"), Speak("Number please.", "en"))),
    ]
    call.prompt_ends()
    call.timer(":first")
    assert call.path == ["num", "failed"] and call.of(c.InputTaken) == []


def test_a_key_during_the_prompt_stops_it() -> None:
    call = Call(load(TIMED))
    assert call.press("3") == [c.StopPlayback("play-1"), c.StartTimer("num#1:inter", 2.0)]
    assert call.prompt_ends() == []  # the stopped prompt's end does not restart the first-digit timer
