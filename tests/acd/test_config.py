"""Agents and queues files: every error kind is located (file:line:col: path: message)."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config import (
    DEFAULT_AGENTS_FILE,
    DEFAULT_QUEUES_FILE,
    ConfigError,
    check_files,
    load_acd,
    load_agents,
    load_queues,
    queues_from_text,
)
from acd.model import STRATEGIES

BAD = Path(__file__).parent / "bad"
QUEUES_OK = BAD / "queues_ok.yaml"

QUEUE_ERRORS = {
    "unknown_key": ["3:5: queues.orders.skil: unknown key 'skil' (did you mean 'skill'?)"],
    "wrong_type": ["3:15: queues.orders.max_wait: wrong type: expected a number, got the text 'soon'"],
    "bad_strategy": [
        "3:15: queues.orders.strategy: 'longest-idel' is not allowed (did you mean 'longest-idle'?)"
    ],
    "out_of_range": ["3:22: queues.orders.min_proficiency: 7 is out of range: must be from 1 to 5"],
    "bad_syntax": ["3:10: YAML syntax error: expected ',' or '}', but got ':'"],
    "empty": ["1:1: the file is empty: expected `queues:`"],
    "bad_relax": [
        "4:9: queues.orders.relax.0: a relax rule needs `min_proficiency`, `language: any` or both",
        "5:31: queues.orders.relax.1.language: 'all' is not allowed; use: any",
    ],
    "bad_department": [
        "4:17: departments.shop.queue: queue 'order' does not exist (did you mean 'orders'?)",
        "5:10: departments.depot: a department needs `extension` or `queue`",
    ],
}

AGENT_ERRORS = {
    "agents_duplicate": ["3:10: agents.1.id: duplicate agent id '2101' (first defined on line 2)"],
    "agents_proficiency": ["5:22: agents.0.skills.orders: 9 is out of range: must be from 1 to 5"],
    "agents_types": [
        '2:9: agents.0.id: wrong type: expected text, got the number 2101 (quote it: "2101")',
        "4:13: agents.0.secret: the SIP password must have at least 8 characters",
        "6:16: agents.0.languages: wrong type: expected a list, got the text 'ja'",
        "7:5: agents.0.email: unknown key 'email'; allowed: id, name, secret, skills, languages",
    ],
    "agents_missing": [
        "2:5: agents.0: missing required key 'name'",
        "2:5: agents.0: missing required key 'secret'",
        "2:5: agents.0: missing required key 'languages'",
        "2:9: agents.0.id: '21a' is not an extension: use 2 to 10 digits",
    ],
}


def _located(errors: list[ConfigError], path: Path) -> list[str]:
    prefix = f"{path}:"
    assert all(str(e).startswith(prefix) for e in errors), errors
    return [str(e)[len(prefix) :] for e in errors]


@pytest.mark.parametrize("name", sorted(QUEUE_ERRORS))
def test_queue_file_error_is_located(name: str) -> None:
    path = BAD / f"{name}.yaml"
    _, errors = load_queues(path)
    got = _located(errors, path)
    assert len(got) == len(QUEUE_ERRORS[name]), got
    for line, want in zip(got, QUEUE_ERRORS[name], strict=True):
        assert line.startswith(want), (line, want)


@pytest.mark.parametrize("name", sorted(AGENT_ERRORS))
def test_agent_file_error_is_located(name: str) -> None:
    path = BAD / f"{name}.yaml"
    _, errors = load_agents(path)
    assert _located(errors, path) == AGENT_ERRORS[name]


def test_duplicate_agent_keeps_the_first() -> None:
    agents, _ = load_agents(BAD / "agents_duplicate.yaml")
    assert [(a.id, a.name) for a in agents] == [("2101", "A")]


def test_agent_skill_no_queue_uses_is_an_error_with_suggestion() -> None:
    path = BAD / "agents_unused_skill.yaml"
    config, errors = load_acd(path, QUEUES_OK)
    assert config is None
    assert _located(errors, path) == [
        "5:14: agents.0.skills.oders: no queue uses skill 'oders' (did you mean 'orders'?)"
    ]


def test_missing_file_is_one_clear_error() -> None:
    missing = BAD / "no_such_file.yaml"
    config, errors = load_acd(missing, QUEUES_OK)
    assert config is None
    assert [str(e) for e in errors] == [f"{missing}:1:1: file not found"]


def test_shipped_defaults_load_clean() -> None:
    config, errors = load_acd(None, None)
    assert errors == []
    assert config is not None
    assert config.queue_names() == {"orders", "returns", "complaints", "inquiries", "operator"}
    assert config.queues["operator"].skill == "operator"
    assert config.department_extensions() == {"warehouse": "2001", "billing": "2002"}
    assert check_files(DEFAULT_AGENTS_FILE, DEFAULT_QUEUES_FILE) == []


def test_shipped_demo_agents_cover_every_queue_in_both_languages() -> None:
    config, _ = load_acd(None, None)
    assert config is not None
    for q in config.queues.values():
        holders = [a for a in config.agents if q.skill in a.skills]
        assert len(holders) >= 2, q.name
    assert any(len(a.skills) > 1 for a in config.agents)
    languages = {lang for a in config.agents for lang in a.languages}
    assert {"ja", "en"} <= languages
    assert len({a.id for a in config.agents}) == len(config.agents)


def test_queue_defaults_and_relax_rules_are_read() -> None:
    text = """
queues:
  orders:
    relax:
      - {after: 60, language: any}
      - {after: 30, min_proficiency: 1}
    display: {ja: ごちゅうもん}
  billing-help:
    skill: billing
    strategy: ring-all
"""
    parsed, errors = queues_from_text(text, "q.yaml")
    assert errors == []
    orders = parsed.queues["orders"]
    assert orders.skill == "orders" and orders.strategy == "longest-idle"
    assert (orders.min_proficiency, orders.max_wait_s, orders.ring_timeout_s, orders.wrapup_s) == (
        1,
        300,
        15,
        10,
    )
    assert [(r.after_s, r.min_proficiency, r.any_language) for r in orders.relax] == [
        (30, 1, False),
        (60, None, True),
    ]
    assert orders.display_name("ja") == "ごちゅうもん"
    assert orders.display_name("en") == "orders"
    assert parsed.queues["billing-help"].skill == "billing"
    assert parsed.queues["billing-help"].strategy in STRATEGIES


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("- 1\n", "1:1: expected a mapping with `queues:`, got a list"),
        ("queues: {}\n", "1:9: queues: must not be empty"),
        ("queue: {}\n", "1:1: queue: unknown key 'queue' (did you mean 'queues'?)"),
        ("queues:\n  Orders: {}\n", "2:3: queues.Orders: queue name 'Orders' must be lower-case"),
        (
            "queues:\n  o: {priority: true}\n",
            "2:17: queues.o.priority: wrong type: expected a whole number, got true/false",
        ),
        ("queues:\n  o: {wrapup: -1}\n", "2:15: queues.o.wrapup: -1 is out of range: must be at least 0"),
        ("queues:\n  o: {display: {ja: ''}}\n", "2:21: queues.o.display.ja: must not be empty"),
    ],
)
def test_queue_text_errors(text: str, want: str) -> None:
    _, errors = queues_from_text(text, "q.yaml")
    assert errors, text
    assert str(errors[0]).startswith(f"q.yaml:{want}"), str(errors[0])


def test_check_files_lists_every_problem_of_both_files() -> None:
    lines = check_files(BAD / "agents_types.yaml", BAD / "bad_strategy.yaml")
    assert len(lines) == 5
    assert any("bad_strategy.yaml:3:15" in line for line in lines)
    assert any("agents_types.yaml:2:9" in line for line in lines)
