"""A supervisor's edit of one agent's skills (and languages), applied to the agents file's text (pure).

Only the agent's ``skills`` (and, when given, ``languages``) values are rewritten, as flow collections
(``skills: {orders: 5, returns: 3}``); every other line of the file — comments, order, quoting — is
kept. The result is checked by the same loader as any hand edit before it is written (``agents_source``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from acd.config import PROFICIENCY
from acd.distributor import UnknownAgent
from ivr.flows.suggest import did_you_mean
from ivr.flows.yamlpos import YamlError, load_positioned

LANGUAGE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
MAX_LANGUAGES = 10


class EditRejected(ValueError):
    """The request itself is wrong (HTTP 422); ``field`` names the part of the body."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class FileRejected(Exception):
    """The agents file cannot take the edit (HTTP 422): the loader's errors, ``file:line:col: …``.
    The file on disk is unchanged."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class SkillsEdit:
    skills: Mapping[str, int]
    languages: tuple[str, ...] | None = None
    """None: the agent's languages stay as they are."""


def parse_edit(body: Mapping[str, Any], known_skills: Collection[str]) -> SkillsEdit:
    """``{"skills": {"orders": 5}, "languages"?: ["ja"]}`` → the edit; ``EditRejected`` says what is wrong.
    Skill names must be skills a queue routes on; proficiency is a whole number in ``PROFICIENCY``."""
    unknown = sorted(set(body) - {"skills", "languages"})
    if unknown:
        raise EditRejected(f"unknown field {unknown[0]!r}", unknown[0])
    raw = body.get("skills")
    if not isinstance(raw, dict):
        raise EditRejected('skills must be an object {"skill": proficiency}', "skills")
    lo, hi = PROFICIENCY
    skills: dict[str, int] = {}
    for name, level in raw.items():
        if name not in known_skills:
            hint = did_you_mean(name, known_skills) or f"; queue skills: {', '.join(sorted(known_skills))}"
            raise EditRejected(f"no queue uses skill {name!r}{hint}", f"skills.{name}")
        if isinstance(level, bool) or not isinstance(level, int) or not lo <= level <= hi:
            raise EditRejected(
                f"proficiency of {name!r} must be a whole number from {lo} to {hi}", f"skills.{name}"
            )
        skills[name] = level
    languages = None
    if "languages" in body:
        languages = _languages(body["languages"])
    return SkillsEdit(skills, languages)


def _languages(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_LANGUAGES:
        raise EditRejected(f"languages must be a list of 1 to {MAX_LANGUAGES} language codes", "languages")
    for lang in raw:
        if not isinstance(lang, str) or not LANGUAGE.match(lang):
            raise EditRejected(f"{lang!r} is not a language code (like ja or en)", "languages")
    if len(set(raw)) != len(raw):
        raise EditRejected("a language is listed twice", "languages")
    return tuple(raw)


def _flow(value: Any) -> str:
    return str(
        yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True, width=1 << 30)
    ).strip()


def _end(node: yaml.Node) -> int:
    """Where a value's own text ends (a block collection's end mark lies on the next key's line)."""
    if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style and node.value:
        last = node.value[-1]
        return _end(last[1] if isinstance(last, tuple) else last)
    return int(node.end_mark.index)


def with_edit(text: str, file: str, agent_id: str, edit: SkillsEdit) -> str:
    """The agents file's text with ``agent_id``'s skills (and languages) replaced.

    Raises ``UnknownAgent`` when the file has no such agent, ``FileRejected`` when it is not YAML."""
    try:
        load_positioned(text)  # the loader's own syntax checks and messages
    except YamlError as exc:
        raise FileRejected([f"{file}:{exc.line}:{exc.column}: {exc.message}"]) from exc
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    agents = _value(root, "agents")
    for item in agents.value if isinstance(agents, yaml.SequenceNode) else []:
        if not isinstance(item, yaml.MappingNode):
            continue
        id_node = _value(item, "id")
        if isinstance(id_node, yaml.ScalarNode) and str(id_node.value) == agent_id:
            return _splice(text, item, edit)
    raise UnknownAgent(agent_id)


def _value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if (
                isinstance(key_node, yaml.ScalarNode)
                and key_node.value == key
                and isinstance(value_node, yaml.Node)
            ):
                return value_node
    return None


def _splice(text: str, agent: yaml.MappingNode, edit: SkillsEdit) -> str:
    new = {"skills": _flow(dict(edit.skills))}
    if edit.languages is not None:
        new["languages"] = _flow(list(edit.languages))
    spans: list[tuple[int, int, str]] = []
    for key_node, value_node in agent.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key in new:
            # from just after the key to the end of its value: "skills:\n  a: 1" → "skills: {a: 1}"
            spans.append((int(key_node.end_mark.index), _end(value_node), f": {new.pop(key)}"))
    if new:  # a key the agent lacks: the loader will say it is missing
        raise FileRejected([f"agent {_agent_id(agent)} has no {', '.join(new)} to edit"])
    for start, end, replacement in sorted(spans, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _agent_id(agent: yaml.MappingNode) -> str:
    node = _value(agent, "id")
    return str(node.value) if isinstance(node, yaml.ScalarNode) else "?"
