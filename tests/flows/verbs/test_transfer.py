"""``transfer``: send the call to an extension or department; ``after`` / ``on_failure`` by TransferDone."""

from __future__ import annotations

import pytest

from ivr.flows import commands as c
from ivr.flows.events import TransferDone
from ivr.flows.prompts import Speak

from .drive import Call, errors_of, load

FLOW = """
name: t
languages: [en]
entry: send
nodes:
  send:
    type: transfer
    extension: "2001"
    timeout: 20
    on_failure: sorry
    after: survey
  survey: {type: hangup, outcome: completed}
  sorry: {type: hangup, prompt: Nobody answered., outcome: failed}
"""


def test_transfer_is_sent_at_once_without_a_prompt() -> None:
    call = Call(load(FLOW))
    assert call.log[2:] == [c.NodeEntered("send"), c.Transfer("2001", 20.0)]
    assert call.state.node == "send" and not call.state.finished


def test_answered_transfer_completes_and_goes_to_after() -> None:
    call = Call(load(FLOW))
    out = call.send(TransferDone("2001", "answered"))
    assert out == [c.OutcomeSet("completed"), c.NodeEntered("survey"), c.OutcomeSet("completed"), c.Hangup()]
    assert call.path == ["send", "survey"]


@pytest.mark.parametrize("outcome", ["busy", "no_answer", "failed"])
def test_unanswered_transfer_takes_the_failure_path(outcome: str) -> None:
    call = Call(load(FLOW))
    out = call.send(TransferDone("2001", outcome))
    assert out == [
        c.NodeEntered("sorry"),
        c.Play(call.playing().play_id, (Speak("Nobody answered.", "en"),), False),
    ]
    assert call.path == ["send", "sorry"]
    assert not any(isinstance(x, c.OutcomeSet) and x.outcome == "completed" for x in call.log)


def test_answered_transfer_without_after_ends_the_call_completed() -> None:
    call = Call(
        load(
            FLOW.replace("    after: survey\n", "").replace(
                "  survey: {type: hangup, outcome: completed}\n", ""
            )
        )
    )
    out = call.send(TransferDone("2001", "answered"))
    assert [type(x) for x in out] == [c.OutcomeSet, c.Hangup]
    assert {x.outcome for x in out if isinstance(x, c.OutcomeSet)} == {"completed"}
    assert call.state.finished and call.state.outcome == "completed"


def test_transfer_done_before_the_transfer_started_is_ignored() -> None:
    text = FLOW.replace('    extension: "2001"\n', '    extension: "2001"\n    prompt: Connecting you.\n')
    call = Call(load(text))
    play = call.playing()
    assert call.log[2:] == [c.NodeEntered("send"), play]
    assert play.prompts == (Speak("Connecting you.", "en"),) and not play.barge_in
    assert call.send(TransferDone("2001", "answered")) == []  # no transfer is running yet
    assert call.prompt_ends() == [c.Transfer("2001", 20.0)]
    assert call.send(TransferDone("2001", "busy")) == [c.NodeEntered("sorry"), call.playing()]


def test_department_resolves_to_its_extension() -> None:
    call = Call(load(FLOW.replace('extension: "2001"', "department: billing")))
    assert call.of(c.Transfer) == [c.Transfer("2002", 20.0)]


def test_unknown_department_or_both_targets_do_not_load() -> None:
    assert errors_of(FLOW.replace('extension: "2001"', "department: warehous")) == [
        "nodes.send.department: department 'warehous' does not exist (did you mean 'warehouse'?)"
    ]
    assert errors_of(FLOW.replace('extension: "2001"', 'extension: "2001"\n    department: billing')) == [
        "nodes.send: a transfer needs exactly one of `extension` or `department`"
    ]
