"""Operators for Kamailio from the agents file: id and secret, nothing anonymous."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.cluster.kamailio_conf import KamailioConfigError
from ivr.cluster.operators import operators_from_agents_file

SHIPPED_TEST_AGENTS = Path(__file__).resolve().parent.parent / "integration" / "acd" / "agents.yaml"


def test_every_agent_of_the_file_becomes_an_operator_with_its_secret() -> None:
    operators = operators_from_agents_file(SHIPPED_TEST_AGENTS)
    assert [o.id for o in operators] == [f"31{n:02d}" for n in range(1, 10)]
    assert operators[0].secret == "test-3101-secret"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("agents:\n  - {id: '2101', name: No Secret}\n", "agent #1 needs an id and a secret"),
        ("queues: {}\n", "no 'agents:' list"),
        ("agents: [\n", "cannot read"),
    ],
)
def test_a_file_kamailio_cannot_use_is_refused_by_name(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text(text)
    with pytest.raises(KamailioConfigError, match=named):
        operators_from_agents_file(path)
