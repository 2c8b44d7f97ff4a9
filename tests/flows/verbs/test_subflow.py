"""``subflow``: run another flow, then continue at ``next`` (or finish); a hang-up inside ends the call."""

from __future__ import annotations

from ivr.flows import commands as c
from ivr.flows.prompts import Speak

from .drive import Call, load

MAIN = """
name: main
languages: [en]
entry: start
nodes:
  start: {type: subflow, flow: csat, next: bye}
  bye: {type: hangup, outcome: completed}
"""

CSAT = """
name: csat
languages: [en]
entry: ask
nodes:
  ask: {type: survey, prompt: Score us from 1 to 5., next: thanks}
  thanks: {type: say, prompt: Thanks.}
"""


def test_enters_the_other_flow_then_returns_to_next() -> None:
    call = Call(load(MAIN, CSAT))
    assert call.log[2:5] == [c.NodeEntered("start"), c.NodeEntered("csat/ask"), call.playing()]
    assert call.state.frame == "csat" and call.state.node == "ask"
    call.press("5")
    assert call.path == ["start", "csat/ask", "csat/thanks"]
    assert call.of(c.SurveyAnswered) == [c.SurveyAnswered(5)]
    assert call.prompt_ends() == [c.NodeEntered("bye"), c.OutcomeSet("completed"), c.Hangup()]
    assert call.path == ["start", "csat/ask", "csat/thanks", "bye"]
    assert call.state.frame == "main" and call.state.finished


def test_without_next_the_call_ends_when_the_other_flow_does() -> None:
    call = Call(
        load(
            MAIN.replace(", next: bye}", "}").replace("  bye: {type: hangup, outcome: completed}\n", ""), CSAT
        )
    )
    call.press("4")
    assert call.prompt_ends() == [c.Hangup()]
    assert call.state.finished and call.path == ["start", "csat/ask", "csat/thanks"]


def test_a_hangup_inside_the_other_flow_ends_the_whole_call() -> None:
    inner = """
    name: csat
    languages: [en]
    entry: bye
    nodes:
      bye: {type: hangup, prompt: Goodbye from inside., outcome: abandoned}
    """
    call = Call(load(MAIN, inner))
    assert call.playing().prompts == (Speak("Goodbye from inside.", "en"),)
    assert call.prompt_ends() == [c.OutcomeSet("abandoned"), c.Hangup()]
    assert call.state.finished and call.path == ["start", "csat/bye"]  # main's `bye` never runs
