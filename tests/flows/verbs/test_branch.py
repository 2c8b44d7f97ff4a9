"""``branch``: the first rule whose conditions all hold picks the next node, else ``else``."""

from __future__ import annotations

import pytest

from ivr.flows import commands as c

from .drive import Call, errors_of, load

FLOW = """
name: t
languages: [ja, en]
entry: pick
vars: {tier: basic}
nodes:
  pick:
    type: branch
    rules:
      - {var: tier, equals: gold, goto: gold}
      - {var: tier, in: [silver, bronze], goto: metal}
      - {var: tier, matches: "vip-[0-9]+", goto: vip}
      - {caller: "^090.*", var: tier, not_equals: banned, goto: mobile}
      - {dialed: "^0120.*", goto: freephone}
      - {lang: en, goto: english}
    else: other
  gold: {type: hangup, outcome: completed}
  metal: {type: hangup, outcome: completed}
  vip: {type: hangup, outcome: completed}
  mobile: {type: hangup, outcome: completed}
  freephone: {type: hangup, outcome: completed}
  english: {type: hangup, outcome: completed}
  other: {type: hangup, outcome: failed}
"""


@pytest.mark.parametrize(
    ("tier", "caller", "dialed", "lang", "reached"),
    [
        ("gold", "0312345678", "100", "ja", "gold"),
        ("silver", "0312345678", "100", "ja", "metal"),
        ("bronze", "0312345678", "100", "ja", "metal"),
        ("vip-42", "0312345678", "100", "ja", "vip"),
        ("vip-x", "0312345678", "100", "ja", "other"),  # matches is a full match
        ("basic", "09012345678", "100", "ja", "mobile"),
        ("banned", "09012345678", "100", "ja", "other"),  # AND: the caller matches, the var does not
        ("basic", "0312345678", "0120444444", "ja", "freephone"),
        ("basic", "0312345678", "100", "en", "english"),
        ("gold", "09012345678", "0120444444", "en", "gold"),  # the first rule that holds wins
        ("basic", "0312345678", "100", "ja", "other"),
    ],
)
def test_first_matching_rule_picks_the_node(
    tier: str, caller: str, dialed: str, lang: str, reached: str
) -> None:
    call = Call(load(FLOW), caller=caller, dialed=dialed, lang=lang, site_vars={"tier": tier})
    outcome = "failed" if reached == "other" else "completed"
    assert call.log == [
        c.Answer(),
        c.SetLanguage(lang),
        c.NodeEntered("pick"),
        c.NodeEntered(reached),
        c.OutcomeSet(outcome),
        c.Hangup(),
    ]
    assert call.path == ["pick", reached]
    assert call.state.finished


PRESENT = """
name: t
languages: [en]
entry: ask
nodes:
  ask:
    type: collect
    prompt: Your number, or just hash
    var: number
    min_length: 1
    retries: 0
    next: pick
    on_failure: pick
  pick:
    type: branch
    rules:
      - {var: number, present: true, goto: known}
      - {var: number, present: false, goto: unknown}
    else: known
  known: {type: hangup}
  unknown: {type: hangup}
"""


def test_present_tests_whether_a_variable_was_set() -> None:
    call = Call(load(PRESENT))
    call.press("42#")
    assert call.path == ["ask", "pick", "known"]

    call = Call(load(PRESENT))
    call.press("#")  # nothing entered: no input, no retries left, the failure path
    assert call.path == ["ask", "pick", "unknown"]


def test_a_bad_regular_expression_does_not_load() -> None:
    text = FLOW.replace('matches: "vip-[0-9]+"', 'matches: "vip-[0-9"')
    [error] = errors_of(text)
    assert error.startswith("nodes.pick.rules.2.matches: invalid regular expression")


def test_a_comparison_without_a_variable_does_not_load() -> None:
    text = FLOW.replace('{dialed: "^0120.*", goto: freephone}', "{equals: x, goto: freephone}")
    assert errors_of(text) == ["nodes.pick.rules.4.equals: `equals` needs a `var` to compare"]


def test_a_rule_for_an_undeclared_language_does_not_load() -> None:
    text = FLOW.replace("{lang: en, goto: english}", "{lang: ko, goto: english}")
    assert errors_of(text) == ["nodes.pick.rules.5.lang: language 'ko' is not declared"]
