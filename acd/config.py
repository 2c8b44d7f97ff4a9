"""Agents and queues YAML files → ``AcdConfig``, every problem located as ``file:line:col: path: message``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from acd.model import STRATEGIES, AcdConfig, AgentConfig, Department, QueueConfig, RelaxRule
from ivr.flows.schema_errors import describe_value
from ivr.flows.suggest import did_you_mean
from ivr.flows.yamlpos import Path_, Positioned, YamlError, load_positioned

DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"
DEFAULT_AGENTS_FILE = DEFAULTS_DIR / "agents.yaml"
DEFAULT_QUEUES_FILE = DEFAULTS_DIR / "queues.yaml"

_AGENT_ID = re.compile(r"^[0-9]{2,10}$")
MAX_NUMBER = 1_000_000_000
"""The largest value a number setting without its own upper bound may have (seconds, rings)."""
PROFICIENCY = (1, 5)
"""The lowest and highest proficiency an agent skill (and a queue's ``min_proficiency``) may have."""
_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_AGENT_KEYS = ("id", "name", "secret", "skills", "languages")
_QUEUE_KEYS = (
    "skill",
    "min_proficiency",
    "priority",
    "target_rings",
    "max_wait",
    "wrapup",
    "ring_timeout",
    "strategy",
    "announce_every",
    "aht_estimate",
    "relax",
    "display",
    "record",
)
_RELAX_KEYS = ("after", "min_proficiency", "language")
_DEPARTMENT_KEYS = ("extension", "queue")


@dataclass(frozen=True)
class ConfigError:
    """An admin-facing problem: ``queues.yaml:7:15: queues.orders.strategy: 'fastest' is not allowed…``."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"


@dataclass(frozen=True)
class QueuesConfig:
    queues: Mapping[str, QueueConfig]
    departments: Mapping[str, Department]


class _Checker:
    def __init__(self, file: str, doc: Positioned) -> None:
        self.file = file
        self.doc = doc
        self.errors: list[ConfigError] = []

    def add(self, path: Path_, message: str, *, key: bool = False) -> None:
        line, col = self.doc.pos(path, key=key)
        err = ConfigError(self.file, line, col, ".".join(path), message)
        if err not in self.errors:
            self.errors.append(err)

    def keys(self, data: Mapping[str, Any], path: Path_, allowed: tuple[str, ...]) -> None:
        for k in data:
            if k not in allowed:
                hint = did_you_mean(k, allowed) or f"; allowed: {', '.join(allowed)}"
                self.add((*path, k), f"unknown key '{k}'{hint}", key=True)

    def mapping(self, value: Any, path: Path_) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(path, f"wrong type: expected a mapping (key: value), got {describe_value(value)}")
        return None

    def text(self, value: Any, path: Path_, *, what: str = "text") -> str | None:
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, str):
            self.add(path, "must not be empty")
        elif isinstance(value, int) and not isinstance(value, bool):
            self.add(path, f'wrong type: expected {what}, got {describe_value(value)} (quote it: "{value}")')
        else:
            self.add(path, f"wrong type: expected {what}, got {describe_value(value)}")
        return None

    def number(
        self, value: Any, path: Path_, lo: float, hi: float | None = None, *, whole: bool = False
    ) -> float | None:
        ok_type = isinstance(value, int) if whole else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type:
            expected = "a whole number" if whole else "a number"
            self.add(path, f"wrong type: expected {expected}, got {describe_value(value)}")
            return None
        if value != value:  # NaN (`.nan`) compares false with every bound
            self.add(path, f"wrong type: expected {'a whole number' if whole else 'a number'}, got nan")
            return None
        if value < lo or (hi is not None and value > hi):
            span = f"from {lo:g} to {hi:g}" if hi is not None else f"at least {lo:g}"
            self.add(path, f"{value} is out of range: must be {span}")
            return None
        if value > MAX_NUMBER:  # .inf, 10**400 (float() would overflow)
            self.add(path, f"out of range: must be at most {MAX_NUMBER}")
            return None
        return float(value)

    def whole(self, value: Any, path: Path_, lo: int, hi: int | None = None) -> int | None:
        n = self.number(value, path, lo, hi, whole=True)
        return None if n is None else int(n)


def _parse(text: str, file: str, what: str) -> tuple[Positioned | None, list[ConfigError]]:
    try:
        doc = load_positioned(text)
    except YamlError as exc:
        return None, [ConfigError(file, exc.line, exc.column, ".".join(exc.path), exc.message)]
    if doc.data is None:
        return None, [ConfigError(file, 1, 1, "", f"the file is empty: expected `{what}:`")]
    if not isinstance(doc.data, dict):
        return None, [
            ConfigError(file, 1, 1, "", f"expected a mapping with `{what}:`, got {describe_value(doc.data)}")
        ]
    return doc, []


def _read(path: Path) -> tuple[str | None, list[ConfigError]]:
    try:
        return path.read_text(encoding="utf-8"), []
    except FileNotFoundError:
        return None, [ConfigError(str(path), 1, 1, "", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ConfigError(str(path), 1, 1, "", f"cannot read the file: {exc}")]


# ---------------------------------------------------------------- agents


def _agent(c: _Checker, raw: Any, path: Path_) -> AgentConfig | None:
    data = c.mapping(raw, path)
    if data is None:
        return None
    before = len(c.errors)
    c.keys(data, path, _AGENT_KEYS)
    for k in _AGENT_KEYS:
        if k not in data:
            c.add(path, f"missing required key '{k}'")
    agent_id = c.text(data["id"], (*path, "id")) if "id" in data else None
    if agent_id is not None and not _AGENT_ID.match(agent_id):
        c.add((*path, "id"), f"'{agent_id}' is not an extension: use 2 to 10 digits")
    name = c.text(data["name"], (*path, "name")) if "name" in data else None
    secret = c.text(data["secret"], (*path, "secret")) if "secret" in data else None
    if secret is not None and len(secret) < 8:
        c.add((*path, "secret"), "the SIP password must have at least 8 characters")
    skills: dict[str, int] = {}
    raw_skills = c.mapping(data["skills"], (*path, "skills")) if "skills" in data else None
    for skill, level in (raw_skills or {}).items():
        p = c.whole(level, (*path, "skills", skill), *PROFICIENCY)
        if p is not None:
            skills[skill] = p
    languages: list[str] = []
    raw_langs = data.get("languages")
    if "languages" in data and not isinstance(raw_langs, list):
        c.add((*path, "languages"), f"wrong type: expected a list, got {describe_value(raw_langs)}")
    elif isinstance(raw_langs, list):
        if not raw_langs:
            c.add((*path, "languages"), "must not be empty")
        for i, lang in enumerate(raw_langs):
            text = c.text(lang, (*path, "languages", str(i)))
            if text is not None:
                languages.append(text)
    if len(c.errors) > before or agent_id is None or name is None or secret is None:
        return None
    return AgentConfig(agent_id, name, secret, MappingProxyType(skills), tuple(languages))


def agents_from_text(text: str, file: str | Path) -> tuple[list[AgentConfig], list[ConfigError]]:
    """Parse and check the text of an agents file."""
    doc, errors = _parse(text, str(file), "agents")
    if doc is None:
        return [], errors
    c = _Checker(str(file), doc)
    c.keys(doc.data, (), ("agents",))
    raw = doc.data.get("agents")
    if "agents" not in doc.data:
        c.add((), "missing required key 'agents'")
    elif not isinstance(raw, list):
        c.add(("agents",), f"wrong type: expected a list, got {describe_value(raw)}")
    agents: list[AgentConfig] = []
    first_line: dict[str, int] = {}
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        agent = _agent(c, item, ("agents", str(i)))
        if agent is None:
            continue
        if agent.id in first_line:
            c.add(
                ("agents", str(i), "id"),
                f"duplicate agent id '{agent.id}' (first defined on line {first_line[agent.id]})",
            )
            continue
        first_line[agent.id] = doc.pos(("agents", str(i), "id"))[0]
        agents.append(agent)
    return agents, sorted(c.errors, key=lambda e: (e.line, e.column))


def load_agents(path: Path) -> tuple[list[AgentConfig], list[ConfigError]]:
    """The agents of an agents file and its problems (agents with a problem are left out)."""
    text, errors = _read(path)
    return ([], errors) if text is None else agents_from_text(text, path)


# ---------------------------------------------------------------- queues


def _relax(c: _Checker, raw: Any, path: Path_) -> tuple[RelaxRule, ...]:
    if not isinstance(raw, list):
        c.add(path, f"wrong type: expected a list, got {describe_value(raw)}")
        return ()
    rules: list[RelaxRule] = []
    for i, item in enumerate(raw):
        p = (*path, str(i))
        data = c.mapping(item, p)
        if data is None:
            continue
        c.keys(data, p, _RELAX_KEYS)
        after = c.number(data["after"], (*p, "after"), 0) if "after" in data else None
        if "after" not in data:
            c.add(p, "missing required key 'after'")
        level = (
            c.whole(data["min_proficiency"], (*p, "min_proficiency"), *PROFICIENCY)
            if "min_proficiency" in data
            else None
        )
        any_language = False
        if "language" in data:
            if data["language"] == "any":
                any_language = True
            else:
                c.add((*p, "language"), f"'{data['language']}' is not allowed; use: any")
        if "min_proficiency" not in data and "language" not in data:
            c.add(p, "a relax rule needs `min_proficiency`, `language: any` or both")
        if after is not None:
            rules.append(RelaxRule(after, level, any_language))
    return tuple(sorted(rules, key=lambda r: r.after_s))


_Field = tuple[str, Callable[[_Checker, Any, Path_], Any]]

_FIELDS: dict[str, _Field] = {
    "min_proficiency": ("min_proficiency", lambda c, v, p: c.whole(v, p, *PROFICIENCY)),
    "priority": ("priority", lambda c, v, p: c.whole(v, p, 0, 100)),
    "target_rings": ("target_rings", lambda c, v, p: c.whole(v, p, 1)),
    "max_wait": ("max_wait_s", lambda c, v, p: c.number(v, p, 1)),
    "wrapup": ("wrapup_s", lambda c, v, p: c.number(v, p, 0)),
    "ring_timeout": ("ring_timeout_s", lambda c, v, p: c.number(v, p, 1)),
    "announce_every": ("announce_every_s", lambda c, v, p: c.number(v, p, 0)),
    "aht_estimate": ("aht_estimate_s", lambda c, v, p: c.number(v, p, 1)),
}


def _queue(c: _Checker, name: str, raw: Any, path: Path_) -> QueueConfig | None:
    if not _NAME.match(name):
        c.add(path, f"queue name '{name}' must be lower-case letters, digits, '-' or '_'", key=True)
    data = c.mapping(raw, path) if raw is not None else {}
    if data is None:
        return None
    before = len(c.errors)
    c.keys(data, path, _QUEUE_KEYS)
    values: dict[str, Any] = {"name": name, "skill": name}
    if "skill" in data:
        values["skill"] = c.text(data["skill"], (*path, "skill"))
    for key, (attr, check) in _FIELDS.items():
        if key in data:
            values[attr] = check(c, data[key], (*path, key))
    if "strategy" in data:
        strategy = data["strategy"]
        if strategy in STRATEGIES:
            values["strategy"] = strategy
        else:
            hint = did_you_mean(str(strategy), STRATEGIES)
            c.add(
                (*path, "strategy"), f"'{strategy}' is not allowed{hint}; use one of: {', '.join(STRATEGIES)}"
            )
    if "record" in data:
        if isinstance(data["record"], bool):
            values["record"] = data["record"]
        else:
            got = describe_value(data["record"])
            c.add((*path, "record"), f"wrong type: expected true or false, got {got}")
    if "relax" in data:
        values["relax"] = _relax(c, data["relax"], (*path, "relax"))
    if "display" in data:
        display = c.mapping(data["display"], (*path, "display")) or {}
        for lang, text in display.items():
            c.text(text, (*path, "display", lang))
        values["display"] = MappingProxyType({k: str(v) for k, v in display.items()})
    if len(c.errors) > before:
        return None
    return QueueConfig(**values)


def _department(
    c: _Checker, name: str, raw: Any, path: Path_, queues: Mapping[str, Any]
) -> Department | None:
    data = c.mapping(raw, path)
    if data is None:
        return None
    before = len(c.errors)
    c.keys(data, path, _DEPARTMENT_KEYS)
    extension = c.text(data["extension"], (*path, "extension")) if "extension" in data else None
    if extension is not None and not _AGENT_ID.match(extension):
        c.add((*path, "extension"), f"'{extension}' is not an extension: use 2 to 10 digits")
    queue = c.text(data["queue"], (*path, "queue")) if "queue" in data else None
    if queue is not None and queue not in queues:
        c.add((*path, "queue"), f"queue '{queue}' does not exist{did_you_mean(queue, queues)}")
    if "extension" not in data and "queue" not in data:
        c.add(path, "a department needs `extension` or `queue`")
    return None if len(c.errors) > before else Department(name, extension, queue)


def queues_from_text(text: str, file: str | Path) -> tuple[QueuesConfig, list[ConfigError]]:
    """Parse and check the text of a queues file."""
    empty = QueuesConfig(MappingProxyType({}), MappingProxyType({}))
    doc, errors = _parse(text, str(file), "queues")
    if doc is None:
        return empty, errors
    c = _Checker(str(file), doc)
    c.keys(doc.data, (), ("queues", "departments"))
    queues: dict[str, QueueConfig] = {}
    raw_queues = doc.data.get("queues")
    if "queues" not in doc.data:
        c.add((), "missing required key 'queues'")
    elif (qmap := c.mapping(raw_queues, ("queues",))) is not None:
        if not qmap:
            c.add(("queues",), "must not be empty")
        for name, raw in qmap.items():
            q = _queue(c, name, raw, ("queues", name))
            if q is not None:
                queues[name] = q
    departments: dict[str, Department] = {}
    if (
        "departments" in doc.data
        and (dmap := c.mapping(doc.data["departments"], ("departments",))) is not None
    ):
        for name, raw in dmap.items():
            d = _department(
                c, name, raw, ("departments", name), raw_queues if isinstance(raw_queues, dict) else {}
            )
            if d is not None:
                departments[name] = d
    out = QueuesConfig(MappingProxyType(queues), MappingProxyType(departments))
    return out, sorted(c.errors, key=lambda e: (e.line, e.column))


def load_queues(path: Path) -> tuple[QueuesConfig, list[ConfigError]]:
    """The queues and departments of a queues file and its problems."""
    text, errors = _read(path)
    if text is None:
        return QueuesConfig(MappingProxyType({}), MappingProxyType({})), errors
    return queues_from_text(text, path)


# ---------------------------------------------------------------- both


def _unused_skills(agents_path: Path, agents: list[AgentConfig], queues: QueuesConfig) -> list[ConfigError]:
    """An agent skill no queue routes on is an error: it is nearly always a typo (``oders``)."""
    text, _ = _read(agents_path)
    doc, _ = _parse(text or "", str(agents_path), "agents")
    skills = {q.skill for q in queues.queues.values()}
    out: list[ConfigError] = []
    ids = [a.id for a in agents]
    raw = doc.data.get("agents") if doc is not None else None
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        if (
            not isinstance(item, dict)
            or item.get("id") not in ids
            or not isinstance(item.get("skills"), dict)
        ):
            continue
        for skill in item["skills"]:
            if skill not in skills:
                path: Path_ = ("agents", str(i), "skills", skill)
                assert doc is not None
                line, col = doc.pos(path, key=True)
                hint = did_you_mean(skill, skills) or f"; queue skills: {', '.join(sorted(skills))}"
                out.append(
                    ConfigError(
                        str(agents_path), line, col, ".".join(path), f"no queue uses skill '{skill}'{hint}"
                    )
                )
    return out


def load_acd(
    agents_path: Path | None, queues_path: Path | None
) -> tuple[AcdConfig | None, list[ConfigError]]:
    """Both files (None = the shipped demo file). The config is None when there is any error."""
    a_path = agents_path or DEFAULT_AGENTS_FILE
    q_path = queues_path or DEFAULT_QUEUES_FILE
    agents, a_errors = load_agents(a_path)
    queues, q_errors = load_queues(q_path)
    errors = a_errors + q_errors
    if not q_errors and queues.queues:
        errors += _unused_skills(a_path, agents, queues)
    if errors:
        return None, errors
    return AcdConfig(tuple(agents), queues.queues, queues.departments), []


def check_files(agents_path: Path | None, queues_path: Path | None) -> list[str]:
    """One line per problem (``file:line:col: path: message``); empty when both files are valid."""
    return [str(e) for e in load_acd(agents_path, queues_path)[1]]
