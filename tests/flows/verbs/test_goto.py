"""``goto``: jump to another node at once."""

from __future__ import annotations

from ivr.flows import commands as c

from .drive import Call, errors_of, load

FLOW = """
name: t
languages: [en]
entry: start
nodes:
  start: {type: goto, target: middle}
  middle: {type: goto, target: ask}
  ask:
    type: collect
    prompt: Digits please
    var: d
    next: done
  done: {type: hangup}
"""


def test_goto_chains_to_the_next_input_node_in_one_step() -> None:
    call = Call(load(FLOW))
    assert kinds_after_setup(call.last) == ["NodeEntered", "NodeEntered", "NodeEntered", "Play"]
    assert call.of(c.NodeEntered) == [c.NodeEntered("start"), c.NodeEntered("middle"), c.NodeEntered("ask")]
    assert call.path == ["start", "middle", "ask"]
    assert call.state.node == "ask" and not call.state.finished


def test_goto_to_an_unknown_node_does_not_load() -> None:
    text = FLOW.replace("target: ask", "target: asks")
    assert "nodes.middle.target: unknown node 'asks' (did you mean 'ask'?)" in errors_of(text)


def test_goto_loop_without_input_does_not_load() -> None:
    text = """
    name: t
    languages: [en]
    entry: a
    nodes:
      a: {type: goto, target: b}
      b: {type: goto, target: a}
    """
    [error] = errors_of(text)
    assert error.startswith("nodes.a: loop that never waits for caller input: a → b → a")


def kinds_after_setup(commands: list[c.Command]) -> list[str]:
    assert commands[:2] == [c.Answer(), c.SetLanguage("en")]
    return [type(x).__name__ for x in commands[2:]]
