"""``collect`` with ``keep_last4``: a sensitive card number's last four digits go to ``<var>.last4`` (to be
read back and submitted); the full number stays sensitive."""

from __future__ import annotations

from ivr.flows import commands as c

from .drive import Call, errors_of, load

FLOW = """
name: pay
languages: [en]
entry: card
nodes:
  card:
    type: collect
    prompt: Card number, then hash.
    var: card
    sensitive: true
    keep_last4: true
    min_length: 13
    max_length: 19
    validate: {luhn: true}
    retries: 1
    next: readback
    on_failure: failed
  readback:
    type: say
    prompt: Card ending in
    digits: "{card.last4}"
    next: ok
  ok: {type: hangup, outcome: completed}
  failed: {type: hangup, outcome: failed}
"""


def test_last_four_digits_are_kept_beside_the_sensitive_value() -> None:
    call = Call(load(FLOW))
    call.prompt_ends()
    call.press("4012888888881881#")
    assert call.state.vars["card.last4"] == "1881"
    assert "card" in call.state.sensitive_vars and "card.last4" not in call.state.sensitive_vars
    taken = call.of(c.InputTaken)
    assert len(taken) == 1 and "1881" not in taken[0].value and taken[0].sensitive


def test_an_invalid_number_keeps_nothing() -> None:
    call = Call(load(FLOW))
    call.prompt_ends()
    call.press("4012888888881882#")
    assert "card.last4" not in call.state.vars


def test_keep_last4_needs_a_sensitive_value_of_at_least_12_digits() -> None:
    plain = FLOW.replace("    sensitive: true\n", "")
    short = FLOW.replace("min_length: 13", "min_length: 4")
    for text in (plain, short):
        assert any("keep_last4" in e for e in errors_of(text)), errors_of(text)
    assert errors_of(FLOW) == []
