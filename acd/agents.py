"""Agent states and the changes a person may ask for (pure)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RESERVED = "reserved"
    """Being offered a call (its phone rings)."""
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


REQUESTABLE = (AgentState.AVAILABLE, AgentState.PAUSED, AgentState.LOGGED_OUT)
"""The states a person (agent API, feature code) may ask for; the others are set by the distributor."""


@dataclass
class AgentStatus:
    id: str
    state: AgentState
    since: datetime
    reason: str | None = None
    current_call: str | None = None
    last_call_ended_at: datetime | None = None
    calls_handled: int = 0
    registered: bool = False

    @property
    def logged_in(self) -> bool:
        return self.state != AgentState.LOGGED_OUT


class TransitionNotAllowed(Exception):
    """The change cannot be made now (HTTP 409); the message says why."""


_ALLOWED_FROM: dict[AgentState, frozenset[AgentState]] = {
    AgentState.AVAILABLE: frozenset(
        {AgentState.LOGGED_OUT, AgentState.PAUSED, AgentState.WRAP_UP, AgentState.AVAILABLE}
    ),
    AgentState.PAUSED: frozenset(
        {AgentState.AVAILABLE, AgentState.WRAP_UP, AgentState.LOGGED_OUT, AgentState.PAUSED}
    ),
    AgentState.LOGGED_OUT: frozenset(set(AgentState) - {AgentState.ON_CALL}),
}

_WHY: dict[tuple[AgentState, AgentState], str] = {
    (AgentState.RESERVED, AgentState.AVAILABLE): "a call is being offered; answer it or let it ring out",
    (
        AgentState.RESERVED,
        AgentState.PAUSED,
    ): "a call is being offered; answer it or let it ring out, then pause",
    (
        AgentState.ON_CALL,
        AgentState.AVAILABLE,
    ): "on a call; the agent becomes free after the call and wrap-up",
    (AgentState.ON_CALL, AgentState.PAUSED): "on a call; pause after the call ends (during wrap-up)",
    (AgentState.ON_CALL, AgentState.LOGGED_OUT): "on a call; log out after the call ends",
}


def parse_state(wanted: str) -> AgentState:
    """A requestable state from its name, or ValueError."""
    try:
        state = AgentState(wanted)
    except ValueError:
        names = ", ".join(s.value for s in REQUESTABLE)
        raise ValueError(f"unknown agent state '{wanted}'; use one of: {names}") from None
    if state not in REQUESTABLE:
        names = ", ".join(s.value for s in REQUESTABLE)
        raise TransitionNotAllowed(
            f"'{wanted}' is set by the system, not on request; ask for one of: {names}"
        )
    return state


def request_state(status: AgentStatus, wanted: str, reason: str | None, now: datetime) -> AgentStatus:
    """The status after a person asks for ``wanted`` (available | paused | logged_out).

    Raises ValueError for an unknown state name, ``TransitionNotAllowed`` when it cannot be done now.
    Asking for the state one is already in is allowed: the status is unchanged, except that a paused
    agent's reason is updated. ``paused`` from ``logged_out`` logs in without taking calls yet.
    """
    state = parse_state(wanted)
    if status.state not in _ALLOWED_FROM[state]:
        why = _WHY.get((status.state, state), "not allowed now")
        raise TransitionNotAllowed(f"agent {status.id} is {status.state.value}: {why}")
    if state == status.state:
        return replace(status, reason=reason) if state == AgentState.PAUSED else replace(status)
    return replace(status, state=state, since=now, reason=reason, current_call=None)
