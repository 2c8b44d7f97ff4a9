"""What a gone node means for the agents (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from acd.node_gone import agents_to_free, is_gone, sip_address
from acd.pg_agent_states import AgentStateChange

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def change(agent_id: str, state: str, node: str) -> AgentStateChange:
    return AgentStateChange(agent_id, state, NOW, node=node, version=3)


def test_frees_only_the_gone_nodes_agents_that_were_busy_with_a_call() -> None:
    states = [
        change("2105", "on_call", "b"),
        change("2101", "reserved", "b"),
        change("2102", "wrap_up", "b"),
        change("2103", "paused", "b"),  # a person's choice: kept
        change("2104", "logged_out", "b"),
        change("2106", "available", "b"),
        change("2107", "on_call", "a"),  # busy on a live node
    ]
    assert agents_to_free(states, "b") == ["2101", "2102", "2105"]
    assert agents_to_free(states, "c") == []


def test_a_stale_node_whose_asterisk_still_answers_is_only_restarting_its_controller() -> None:
    assert is_gone(asterisk_answers=True) is False
    assert is_gone(asterisk_answers=False) is True
    assert is_gone(asterisk_answers=None) is True  # address unknown: silence is all there is


@pytest.mark.parametrize(
    ("sip", "expected"),
    [
        ("127.0.0.1:5070", ("127.0.0.1", 5070)),
        ("asterisk:5060", ("asterisk", 5060)),
        (None, None),
        ("", None),
        ("127.0.0.1", None),
        (":5060", None),
        ("host:0", None),
        ("host:70000", None),
        ("host:50x", None),
    ],
)
def test_sip_address(sip: str | None, expected: tuple[str, int] | None) -> None:
    assert sip_address(sip) == expected
