"""A supervisor's skills edit: the request checked, then applied to the agents file's text leaving every
other line (comments included) as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.config import DEFAULT_AGENTS_FILE, PROFICIENCY, agents_from_text
from acd.distributor import UnknownAgent
from acd.skills_edit import EditRejected, FileRejected, SkillsEdit, parse_edit, with_edit

KNOWN = {"orders", "returns", "complaints"}

BLOCK = """\
# our operators
agents:
  - id: "2101"   # the first one
    name: Hanako Sato
    secret: demo-2101-pw
    skills:
      orders: 5     # best at orders
      returns: 2
    languages:
    - ja
    - en
  - id: "2102"
    name: Taro Suzuki
    secret: demo-2102-pw
    skills: {orders: 3}
    languages: [ja]
"""


def agents_of(text: str) -> dict[str, Any]:
    agents, errors = agents_from_text(text, "agents.yaml")
    assert errors == []
    return {a.id: a for a in agents}


# --- the request ---------------------------------------------------------------------------------


def test_a_valid_body_becomes_an_edit() -> None:
    edit = parse_edit({"skills": {"orders": 5, "returns": 1}, "languages": ["ja", "en"]}, KNOWN)
    assert edit == SkillsEdit({"orders": 5, "returns": 1}, ("ja", "en"))
    assert parse_edit({"skills": {}}, KNOWN).languages is None


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"skills": {"oders": 3}}, "skills.oders", "did you mean 'orders'"),
        ({"skills": {"marketing": 3}}, "skills.marketing", "queue skills: complaints, orders, returns"),
        ({"skills": {"orders": PROFICIENCY[1] + 1}}, "skills.orders", "from 1 to 5"),
        ({"skills": {"orders": PROFICIENCY[0] - 1}}, "skills.orders", "from 1 to 5"),
        ({"skills": {"orders": 2.5}}, "skills.orders", "whole number"),
        ({"skills": {"orders": True}}, "skills.orders", "whole number"),
        ({"skills": {"orders": "5"}}, "skills.orders", "whole number"),
        ({"skills": ["orders"]}, "skills", "object"),
        ({}, "skills", "object"),
        ({"skills": {}, "languages": []}, "languages", "list of 1 to"),
        ({"skills": {}, "languages": "ja"}, "languages", "list of 1 to"),
        ({"skills": {}, "languages": ["ja", "ja"]}, "languages", "twice"),
        ({"skills": {}, "languages": ["ja\n- evil"]}, "languages", "not a language code"),
        ({"skills": {}, "name": "Bob"}, "name", "unknown field"),
    ],
)
def test_a_wrong_body_is_rejected_naming_the_field(body: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(EditRejected) as caught:
        parse_edit(body, KNOWN)
    assert caught.value.field == field
    assert words in str(caught.value)


# --- the file's text -----------------------------------------------------------------------------


def test_block_skills_and_languages_are_replaced_and_everything_else_kept() -> None:
    text = with_edit(BLOCK, "agents.yaml", "2101", SkillsEdit({"orders": 2, "complaints": 4}, ("en",)))
    agents = agents_of(text)
    assert dict(agents["2101"].skills) == {"orders": 2, "complaints": 4}
    assert agents["2101"].languages == ("en",)
    assert dict(agents["2102"].skills) == {"orders": 3}  # the other agent is untouched
    assert "# our operators" in text and '  - id: "2101"   # the first one' in text
    assert '    skills: {orders: 2, complaints: 4}\n    languages: [en]\n  - id: "2102"' in text
    assert text.split('\n  - id: "2102"')[1] == BLOCK.split('\n  - id: "2102"')[1]


def test_flow_skills_are_replaced_and_languages_kept_when_not_given() -> None:
    text = with_edit(BLOCK, "agents.yaml", "2102", SkillsEdit({"returns": 5}))
    agents = agents_of(text)
    assert dict(agents["2102"].skills) == {"returns": 5}
    assert agents["2102"].languages == ("ja",)
    assert text.splitlines()[:12] == BLOCK.splitlines()[:12]  # 2101's lines, comments and all


def test_the_shipped_file_takes_an_edit_of_its_last_agent() -> None:
    shipped = DEFAULT_AGENTS_FILE.read_text(encoding="utf-8")
    text = with_edit(shipped, "agents.yaml", "2108", SkillsEdit({"orders": 1}, ("en", "ja")))
    agents = agents_of(text)
    assert dict(agents["2108"].skills) == {"orders": 1}
    assert agents["2108"].languages == ("en", "ja")
    assert [dict(a.skills) for i, a in agents.items() if i != "2108"] == [
        dict(a.skills) for a in agents_from_text(shipped, "x")[0] if a.id != "2108"
    ]


def test_an_agent_missing_from_the_file_is_unknown() -> None:
    with pytest.raises(UnknownAgent):
        with_edit(BLOCK, "agents.yaml", "2999", SkillsEdit({"orders": 1}))


def test_a_file_that_is_not_yaml_is_rejected_with_the_loaders_position(tmp_path: Path) -> None:
    with pytest.raises(FileRejected) as caught:
        with_edit("agents: [\n", "agents.yaml", "2101", SkillsEdit({"orders": 1}))
    [error] = caught.value.errors
    assert error.startswith("agents.yaml:")
    assert "YAML syntax error" in error
