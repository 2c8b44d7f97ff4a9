"""``set``: assign variables (templates over the call's variables), then ``next``."""

from __future__ import annotations

from ivr.flows import commands as c
from ivr.flows.prompts import Speak

from .drive import Call, errors_of, load

FLOW = """
name: t
languages: [en]
entry: remember
vars: {greeting: Hello}
nodes:
  remember:
    type: set
    vars:
      who: "{caller.number}"
      line: "{dialed}-{lang}"
      count: 3
      greeting: "{greeting} again"
    next: tell
  tell:
    type: say
    prompt: "{greeting}, {who} on {line}"
    next: bye
  bye: {type: hangup}
"""


def test_set_assigns_rendered_values_and_moves_on() -> None:
    call = Call(load(FLOW), caller="0311112222", dialed="100")
    assert call.path == ["remember", "tell"]
    v = call.state.vars
    assert (v["who"], v["line"], v["count"], v["greeting"]) == ("0311112222", "100-en", "3", "Hello again")
    assert call.last[2:] == [
        c.NodeEntered("remember"),
        c.NodeEntered("tell"),
        c.Play(call.playing().play_id, (Speak("Hello again, 0311112222 on 100-en", "en"),), barge_in=False),
    ]


def test_set_without_next_ends_the_call() -> None:
    call = Call(load("name: t\nlanguages: [en]\nentry: s\nnodes:\n  s: {type: set, vars: {a: b}}\n"))
    assert call.log[2:] == [c.NodeEntered("s"), c.Hangup()]
    assert call.state.finished and call.state.vars["a"] == "b"


def test_a_template_naming_an_unknown_variable_does_not_load() -> None:
    text = FLOW.replace('who: "{caller.number}"', 'who: "{caller.numbr}"')
    assert errors_of(text) == [
        "nodes.remember.vars.who: unknown variable 'caller.numbr' (did you mean 'caller.number'?)"
    ]


def test_a_boolean_set_by_set_matches_the_same_boolean_in_branch() -> None:
    flow = load(
        """
        name: t
        languages: [en]
        entry: s
        nodes:
          s: {type: set, vars: {vip: true}, next: pick}
          pick:
            type: branch
            rules: [{var: vip, equals: true, goto: vip_line}]
            else: plain_line
          vip_line: {type: hangup}
          plain_line: {type: hangup}
        """
    )
    assert Call(flow).path == ["s", "pick", "vip_line"]
