"""Flow files → ``Flow``: reading (I/O) and assembling one flow from its checks, every error located
(file:line:col and node path) and worded for admins.

The checks live beside: ``schema_errors.py`` (structure), ``checks.py`` (semantics), ``link.py``
(across flows). What the site knows (queue names, departments) comes in as
keyword arguments; the defaults are the ACD's shipped set (``DEFAULT_QUEUES``, ``DEFAULT_DEPARTMENTS``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ivr.flows.checks import BUILTIN_VARS, DEFAULT_VARS, check_semantics
from ivr.flows.errorlist import ErrorList
from ivr.flows.link import link
from ivr.flows.model import Flow, FlowError
from ivr.flows.schema_errors import schema_errors
from ivr.flows.verbs import VERBS, Verb
from ivr.flows.verbs.base import DEFAULT_DEPARTMENTS, DEFAULT_QUEUES, CheckEnv
from ivr.flows.yamlpos import Path_, YamlError, load_positioned

__all__ = [
    "BUILTIN_VARS",
    "DEFAULT_DEPARTMENTS",
    "DEFAULT_QUEUES",
    "DEFAULT_VARS",
    "SHIPPED_DIR",
    "FlowSet",
    "check_file",
    "check_text",
    "flow_files",
    "link",
    "load_file",
    "load_paths",
    "load_text",
]

SHIPPED_DIR = Path(__file__).resolve().parent / "defaults"


def _build_nodes(data: Mapping[str, Any], bad: set[Path_], env: CheckEnv) -> dict[str, Verb]:
    nodes: dict[str, Verb] = {}
    specs = data.get("nodes")
    for node_id, spec in (specs if isinstance(specs, dict) else {}).items():  # not a mapping: a schema error
        if ("nodes", node_id) in bad or not isinstance(spec, dict) or spec.get("type") not in VERBS:
            continue
        nodes[node_id] = VERBS[str(spec["type"])](node_id, MappingProxyType(dict(spec)), env)
    return nodes


def load_text(
    text: str,
    file: str | Path,
    *,
    queues: frozenset[str] = DEFAULT_QUEUES,
    departments: Mapping[str, str] = DEFAULT_DEPARTMENTS,
) -> tuple[Flow | None, list[FlowError]]:
    """Parse and check one flow file's text. Returns the flow only when there is no error.

    Only errors are returned; ``check_text`` also gives the warnings."""
    flow, problems = check_text(text, file, queues=queues, departments=departments)
    return flow, [e for e in problems if not e.is_warning]


def check_text(
    text: str,
    file: str | Path,
    *,
    queues: frozenset[str] = DEFAULT_QUEUES,
    departments: Mapping[str, str] = DEFAULT_DEPARTMENTS,
) -> tuple[Flow | None, list[FlowError]]:
    """Like ``load_text``, but the list also holds warnings (``severity="warning"``), in file order.

    The flow is returned when there are only warnings."""
    file_s = str(file)
    try:
        doc = load_positioned(text)
    except YamlError as exc:
        return None, [FlowError(file_s, exc.line, exc.column, ".".join(exc.path), exc.message)]
    errs = ErrorList(file_s, doc)
    if not isinstance(doc.data, dict):
        errs.add((), "a flow file must be a mapping with name, entry and nodes")
        return None, errs.sorted()
    data: dict[str, Any] = doc.data
    raw_languages = data.get("languages")
    # a wrong `languages:` (empty, null, not a list) is reported by the schema; check the rest as ja/en
    languages: tuple[str, ...] = ("ja", "en")
    if isinstance(raw_languages, list) and raw_languages:
        languages = tuple(str(x) for x in raw_languages)
    env = CheckEnv(languages, queues, departments)
    bad = schema_errors(doc, errs)
    nodes = _build_nodes(data, bad, env)
    check_semantics(data, nodes, errs, env, structural_ok=not errs.items)
    if errs.failed:
        return None, errs.sorted()
    flow_vars = {**DEFAULT_VARS, **{str(k): str(v) for k, v in data.get("vars", {}).items()}}
    return Flow(
        name=str(data["name"]),
        file=Path(file),
        version=hashlib.sha256(text.encode()).hexdigest()[:12],
        languages=languages,
        default_language=str(data.get("default_language", languages[0])),
        entry=str(data["entry"]),
        nodes=MappingProxyType(nodes),
        numbers=tuple(str(n) for n in data.get("numbers", [])),
        vars=MappingProxyType(flow_vars),
        description=str(data.get("description", "")),
        positions=MappingProxyType({".".join(k): v for k, v in doc.values.items()}),
    ), errs.sorted()


def load_file(
    path: Path,
    *,
    queues: frozenset[str] = DEFAULT_QUEUES,
    departments: Mapping[str, str] = DEFAULT_DEPARTMENTS,
) -> tuple[Flow | None, list[FlowError]]:
    """``load_text`` of a file: the flow (None on any error) and its errors."""
    flow, problems = check_file(path, queues=queues, departments=departments)
    return flow, [e for e in problems if not e.is_warning]


def check_file(
    path: Path,
    *,
    queues: frozenset[str] = DEFAULT_QUEUES,
    departments: Mapping[str, str] = DEFAULT_DEPARTMENTS,
) -> tuple[Flow | None, list[FlowError]]:
    """``check_text`` of a file: the flow (None on any error), its errors and its warnings."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [FlowError(str(path), 1, 1, "", f"cannot read the file: {exc}")]
    return check_text(text, path, queues=queues, departments=departments)


def flow_files(paths: Iterable[Path]) -> list[Path]:
    """YAML files from files and directories (directories are not searched recursively)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(x for x in p.iterdir() if x.suffix in (".yaml", ".yml") and x.is_file())
        else:
            out.append(p)
    return out


@dataclass
class FlowSet:
    flows: dict[str, Flow] = field(default_factory=dict)
    errors: list[FlowError] = field(default_factory=list)
    warnings: list[FlowError] = field(default_factory=list)
    """Problems that do not stop a flow from loading (reported by `ivr flows check` and the editor)."""


def load_paths(
    paths: Iterable[Path],
    *,
    queues: frozenset[str] = DEFAULT_QUEUES,
    departments: Mapping[str, str] = DEFAULT_DEPARTMENTS,
) -> FlowSet:
    """Load every flow file; later paths override flows of the same name (site over shipped)."""
    out = FlowSet()
    raw: dict[str, Flow] = {}
    for path in flow_files(paths):
        flow, problems = check_file(path, queues=queues, departments=departments)
        out.errors += [e for e in problems if not e.is_warning]
        out.warnings += [e for e in problems if e.is_warning]
        if flow is not None:
            raw[flow.name] = flow
    out.flows, link_errors = link(raw)
    out.errors += link_errors
    return out
