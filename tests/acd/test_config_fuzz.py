"""Hostile agents and queues files (mutated shipped and test files, alias bombs, deep nesting, random
text): the ACD config answers with located ``ConfigError``s or a valid config, never an exception."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from acd.config import (
    _AGENT_ID,
    DEFAULT_AGENTS_FILE,
    DEFAULT_QUEUES_FILE,
    MAX_NUMBER,
    ConfigError,
    agents_from_text,
    load_acd,
    queues_from_text,
)
from tests.yaml_mutations import BILLION_LAUGHS, SELF_ALIAS, any_yaml

_TESTS_ACD = Path(__file__).parents[1] / "integration" / "acd"
AGENTS = [
    DEFAULT_AGENTS_FILE.read_text(encoding="utf-8"),
    (_TESTS_ACD / "agents.yaml").read_text(encoding="utf-8"),
]
QUEUES = [
    DEFAULT_QUEUES_FILE.read_text(encoding="utf-8"),
    (_TESTS_ACD / "queues.yaml").read_text(encoding="utf-8"),
]


def assert_located(text: str, errors: list[ConfigError]) -> None:
    lines = text.count("\n") + 1
    for e in errors:
        assert isinstance(e, ConfigError)
        assert 1 <= e.line <= lines + 1 and e.column >= 1, e
        assert str(e).startswith(f"fuzz.yaml:{e.line}:{e.column}: ")


@given(any_yaml(AGENTS))
@example(SELF_ALIAS)  # RecursionError before
@example(BILLION_LAUGHS)
def test_any_agents_text_gives_valid_agents_or_located_errors(text: str) -> None:
    agents, errors = agents_from_text(text, "fuzz.yaml")
    assert_located(text, errors)
    ids = [a.id for a in agents]
    assert len(ids) == len(set(ids))
    for agent in agents:
        assert _AGENT_ID.match(agent.id) and agent.name.strip() and len(agent.secret) >= 8
        assert all(isinstance(level, int) and 1 <= level <= 5 for level in agent.skills.values())


@given(any_yaml(QUEUES))
@example("queues:\n  orders:\n    max_wait: " + "10" * 200 + "\n")  # OverflowError in float() before
@example("queues:\n  orders:\n    max_wait: .nan\n")  # NaN passed every range check before
@example("queues:\n  orders:\n    wrapup: .inf\n")  # infinity was a valid wrap-up time before
@example("queues:\n  orders:\n    relax: [{after: .nan, language: any}]\n")
def test_any_queues_text_gives_finite_queues_or_located_errors(text: str) -> None:
    config, errors = queues_from_text(text, "fuzz.yaml")
    assert_located(text, errors)
    for q in config.queues.values():
        times = [q.max_wait_s, q.wrapup_s, q.ring_timeout_s, q.announce_every_s, q.aht_estimate_s]
        times += [r.after_s for r in q.relax]
        assert all(math.isfinite(t) and 0 <= t <= MAX_NUMBER for t in times), q


def test_huge_or_non_finite_numbers_are_errors_on_their_line() -> None:
    for value in ["10" * 200, ".inf", ".nan"]:
        _, errors = queues_from_text(f"queues:\n  orders:\n    max_wait: {value}\n", "q.yaml")
        assert [(e.line, e.path) for e in errors] == [(3, "queues.orders.max_wait")]


@given(any_yaml(AGENTS), any_yaml(QUEUES))
def test_both_files_together_load_or_give_errors(agents_text: str, queues_text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        a, q = Path(tmp) / "agents.yaml", Path(tmp) / "queues.yaml"
        a.write_text(agents_text, encoding="utf-8")
        q.write_text(queues_text, encoding="utf-8")
        config, errors = load_acd(a, q)
    assert (config is None) == bool(errors)
    assert all(e.line >= 1 and e.column >= 1 for e in errors)


@given(st.binary(max_size=300))
def test_any_bytes_as_config_files_give_errors_not_exceptions(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.yaml"
        path.write_bytes(data)
        config, errors = load_acd(path, path)
    assert config is None and errors
