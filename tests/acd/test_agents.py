"""Agent state changes a person may ask for: every (from, wanted) pair."""

from __future__ import annotations

import pytest

from acd.agents import AgentState, AgentStatus, TransitionNotAllowed, parse_state, request_state
from tests.acd.builders import at

S = AgentState
ALLOWED = {
    # wanted: states it may be asked from
    "available": {S.LOGGED_OUT, S.PAUSED, S.WRAP_UP, S.AVAILABLE},
    "paused": {S.AVAILABLE, S.WRAP_UP, S.LOGGED_OUT, S.PAUSED},
    "logged_out": {S.LOGGED_OUT, S.AVAILABLE, S.RESERVED, S.WRAP_UP, S.PAUSED},
}
CASES = [(state, wanted) for state in AgentState for wanted in ALLOWED]


def _status(state: AgentState) -> AgentStatus:
    busy = state in (S.RESERVED, S.ON_CALL, S.WRAP_UP)
    return AgentStatus(
        "2101",
        state,
        at(0),
        reason="lunch" if state == S.PAUSED else None,
        current_call="c1" if busy else None,
        calls_handled=4,
        registered=True,
    )


@pytest.mark.parametrize(("state", "wanted"), CASES)
def test_request_state_table(state: AgentState, wanted: str) -> None:
    before = _status(state)
    if state not in ALLOWED[wanted]:
        with pytest.raises(TransitionNotAllowed, match=f"agent 2101 is {state.value}"):
            request_state(before, wanted, "why", at(10))
        return
    after = request_state(before, wanted, "why", at(10))
    assert after.state == AgentState(wanted)
    assert after.calls_handled == 4 and after.registered
    if state == AgentState(wanted):
        assert after.since == at(0)  # asking again changes nothing but a pause reason
        assert after.reason == ("why" if wanted == "paused" else before.reason)
    else:
        assert after.since == at(10)
        assert after.reason == "why"
        assert after.current_call is None
    assert before.state == state  # the given status is not changed


def test_on_call_refusal_says_why() -> None:
    with pytest.raises(TransitionNotAllowed, match="on a call; log out after the call ends"):
        request_state(_status(S.ON_CALL), "logged_out", None, at(1))


@pytest.mark.parametrize("name", ["busy", "Available", ""])
def test_unknown_state_name_is_value_error(name: str) -> None:
    with pytest.raises(ValueError, match="unknown agent state"):
        request_state(_status(S.AVAILABLE), name, None, at(1))


@pytest.mark.parametrize("name", ["reserved", "on_call", "wrap_up"])
def test_system_states_cannot_be_requested(name: str) -> None:
    with pytest.raises(TransitionNotAllowed, match="set by the system"):
        parse_state(name)


def test_logged_in_property() -> None:
    assert not _status(S.LOGGED_OUT).logged_in
    assert all(_status(s).logged_in for s in AgentState if s != S.LOGGED_OUT)
