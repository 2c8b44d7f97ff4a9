"""YAML → ``Flow``, with every error located (file:line:col and node path) and worded for admins."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema

from acd.queues import known_departments, known_queue_names
from ivr.flows.lint import kanji_warnings
from ivr.flows.model import ERROR, WARNING, Flow, FlowError
from ivr.flows.schema import flow_schema
from ivr.flows.suggest import did_you_mean
from ivr.flows.verbs import VERBS, Verb
from ivr.flows.verbs.base import CheckEnv
from ivr.flows.yamlpos import Path_, Positioned, YamlError, load_positioned

SHIPPED_DIR = Path(__file__).resolve().parent / "defaults"
BUILTIN_VARS = frozenset({"caller.number", "caller.name", "dialed", "lang", "call.id"})
DEFAULT_VARS = {"services.orders": "http://127.0.0.1:8080/demo"}

_TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping (key: value)",
    "array": "a list",
    "null": "nothing",
}


class FlowLoadError(Exception):
    def __init__(self, errors: Sequence[FlowError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator(flow_schema())


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "nothing"


class _Errors:
    def __init__(self, file: str, doc: Positioned) -> None:
        self.file = file
        self.doc = doc
        self.items: list[FlowError] = []

    def add(self, path: Path_, message: str, *, key: bool = False, severity: str = ERROR) -> None:
        line, col = self.doc.pos(path, key=key)
        err = FlowError(self.file, line, col, ".".join(path), message, severity)
        if err not in self.items:
            self.items.append(err)

    @property
    def failed(self) -> bool:
        """Whether any problem is an error (warnings alone do not reject a flow)."""
        return any(not e.is_warning for e in self.items)

    def sorted(self) -> list[FlowError]:
        return sorted(self.items, key=lambda e: (e.line, e.column))


def _schema_errors(doc: Positioned, errs: _Errors) -> set[Path_]:
    """Report structural errors; return the paths of nodes that have them."""
    bad: set[Path_] = set()
    error: Any
    for error in _validator().iter_errors(doc.data):
        path: Path_ = tuple(str(p) for p in error.absolute_path)
        if len(path) >= 2 and path[0] == "nodes":
            bad.add(path[:2])
        v, schema, inst = error.validator, error.schema, error.instance
        if v == "additionalProperties" and isinstance(inst, dict) and isinstance(schema, dict):
            allowed = set(schema.get("properties", {}))
            patterns = list(schema.get("patternProperties", {}))
            for k in inst:
                if k in allowed or any(re.search(p, k) for p in patterns):
                    continue
                extra = "" if not allowed else did_you_mean(k, allowed)
                names = sorted(allowed) + (["a language code (ja, en)"] if patterns else [])
                hint = extra or (f"; allowed: {', '.join(names)}" if names else "")
                errs.add((*path, k), f"unknown key '{k}'{hint}", key=True)
        elif v == "required" and isinstance(inst, dict):
            for k in error.validator_value:
                if k not in inst:
                    errs.add(path, f"missing required key '{k}'")
        elif v == "type":
            want = error.validator_value
            wants = [want] if isinstance(want, str) else list(want)
            words = " or ".join(_TYPE_WORDS.get(w, w) for w in wants)
            errs.add(path, f"wrong type: expected {words}, got {_kind(inst)}")
        elif v in ("enum", "const"):
            choices = error.validator_value if v == "enum" else [error.validator_value]
            names = [str(c) for c in choices if c is not None]
            if path[-1:] == ("type",) and len(path) == 3:
                errs.add(
                    path, f"unknown verb '{inst}'{did_you_mean(str(inst), names)}; verbs: {', '.join(names)}"
                )
            else:
                errs.add(
                    path,
                    f"'{inst}' is not allowed{did_you_mean(str(inst), names)}; "
                    f"use one of: {', '.join(names)}",
                )
        elif (
            error.validator == "pattern"
            and isinstance(error.parent, jsonschema.ValidationError)
            and error.parent.validator == "propertyNames"
        ):
            pass  # reported via the parent below
        elif v == "propertyNames":
            errs.add((*path, str(inst)), f"'{inst}' is not allowed as a key here", key=True)
        elif v == "pattern":
            errs.add(path, f"'{inst}' does not have the expected form ({error.validator_value})")
        elif v in ("minProperties", "minItems"):
            errs.add(path, "must not be empty")
        else:
            errs.add(path, error.message)
    return bad


def _build_nodes(data: Mapping[str, Any], bad: set[Path_]) -> dict[str, Verb]:
    nodes: dict[str, Verb] = {}
    for node_id, spec in data.get("nodes", {}).items():
        if ("nodes", node_id) in bad or not isinstance(spec, dict) or spec.get("type") not in VERBS:
            continue
        nodes[node_id] = VERBS[str(spec["type"])](node_id, MappingProxyType(dict(spec)))
    return nodes


def _scc(graph: Mapping[str, list[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in graph:
        if v not in index:
            visit(v)
    return out


def _semantic(data: Mapping[str, Any], nodes: Mapping[str, Verb], errs: _Errors, structural_ok: bool) -> None:
    node_ids = list(data.get("nodes", {}))
    languages = tuple(data.get("languages", ["ja", "en"]))
    if data.get("default_language", languages[0]) not in languages:
        errs.add(
            ("default_language",), f"'{data['default_language']}' is not one of languages {list(languages)}"
        )
    entry = str(data.get("entry", ""))
    if entry and entry not in node_ids:
        errs.add(("entry",), f"unknown node '{entry}'{did_you_mean(entry, node_ids)}")
    env = CheckEnv(languages, known_queue_names(), known_departments())
    known_vars = set(BUILTIN_VARS) | set(DEFAULT_VARS) | {str(k) for k in data.get("vars", {})}
    for verb in nodes.values():
        known_vars |= verb.defined_vars()
    prefixes = tuple(v for v in known_vars if v.endswith("."))
    graph: dict[str, list[str]] = {}
    for node_id, verb in nodes.items():
        base: Path_ = ("nodes", node_id)
        graph[node_id] = []
        for edge in verb.targets():
            if edge.target not in node_ids:
                errs.add(
                    (*base, *edge.path), f"unknown node '{edge.target}'{did_you_mean(edge.target, node_ids)}"
                )
            else:
                graph[node_id].append(edge.target)
        for rel, message in verb.check(env):
            errs.add((*base, *rel), message)
        for rel, prompt in verb.prompt_fields():
            if prompt.per_language:
                for lang in languages:
                    if lang not in prompt.languages():
                        errs.add(
                            (*base, *rel),
                            f"prompt has no '{lang}' text (the flow declares languages: "
                            f"{', '.join(languages)})",
                        )
                for lang in sorted(prompt.languages() - set(languages)):
                    errs.add(
                        (*base, *rel, lang),
                        f"language '{lang}' is not in the flow's languages ({', '.join(languages)})",
                        key=True,
                    )
        from ivr.flows.promptspec import template_names

        for rel, text in verb.template_fields() if structural_ok else []:
            for name in template_names(text):
                if name not in known_vars and not name.startswith(prefixes):
                    hint = did_you_mean(name, [v for v in known_vars if not v.endswith(".")])
                    head, _, rest = name.partition(".")
                    close = did_you_mean(head + ".", prefixes) if rest and not hint else ""
                    if close:
                        hint = f" (did you mean '{close.split(chr(39))[1]}{rest}'?)"
                    errs.add((*base, *rel), f"unknown variable '{name}'{hint}")
    if not structural_ok or entry not in node_ids:
        return
    seen = {entry}
    todo = [entry]
    while todo:
        for nxt in graph.get(todo.pop(), []):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    for node_id in node_ids:
        if node_id not in seen:
            errs.add(
                ("nodes", node_id),
                f"node '{node_id}' is never reached from the entry node '{entry}'",
                key=True,
            )
    quiet = {n: [t for t in graph[n] if not nodes[t].waits()] for n in nodes if not nodes[n].waits()}
    order = {n: i for i, n in enumerate(node_ids)}
    for comp in _scc(quiet):
        if len(comp) > 1 or comp[0] in quiet.get(comp[0], []):
            comp.sort(key=order.__getitem__)
            cycle = " → ".join([*comp, comp[0]])
            errs.add(
                ("nodes", comp[0]),
                f"loop that never waits for caller input: {cycle} (add a menu/collect or an exit)",
                key=True,
            )


def load_text(text: str, file: str | Path) -> tuple[Flow | None, list[FlowError]]:
    """Parse and check one flow file's text. Returns the flow only when there is no error.

    Only errors are returned; ``check_text`` also gives the warnings."""
    flow, problems = check_text(text, file)
    return flow, [e for e in problems if not e.is_warning]


def check_text(text: str, file: str | Path) -> tuple[Flow | None, list[FlowError]]:
    """Like ``load_text``, but the list also holds warnings (``severity="warning"``), in file order.

    The flow is returned when there are only warnings."""
    file_s = str(file)
    try:
        doc = load_positioned(text)
    except YamlError as exc:
        return None, [FlowError(file_s, exc.line, exc.column, ".".join(exc.path), exc.message)]
    errs = _Errors(file_s, doc)
    if not isinstance(doc.data, dict):
        errs.add((), "a flow file must be a mapping with name, entry and nodes")
        return None, errs.sorted()
    data: dict[str, Any] = doc.data
    bad = _schema_errors(doc, errs)
    nodes = _build_nodes(data, bad)
    _semantic(data, nodes, errs, structural_ok=not errs.items)
    languages = tuple(str(x) for x in data.get("languages", ["ja", "en"]))
    raw_vars = data.get("vars")
    for path, message in kanji_warnings(nodes, languages, raw_vars if isinstance(raw_vars, dict) else {}):
        errs.add(path, message, severity=WARNING)
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


def load_file(path: Path) -> tuple[Flow | None, list[FlowError]]:
    """``load_text`` of a file: the flow (None on any error) and its errors."""
    flow, problems = check_file(path)
    return flow, [e for e in problems if not e.is_warning]


def check_file(path: Path) -> tuple[Flow | None, list[FlowError]]:
    """``check_text`` of a file: the flow (None on any error), its errors and its warnings."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [FlowError(str(path), 1, 1, "", f"cannot read the file: {exc}")]
    return check_text(text, path)


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
    """Problems that do not stop a flow from loading (e.g. kanji in a Japanese prompt)."""


def link(flows: Mapping[str, Flow]) -> tuple[dict[str, Flow], list[FlowError]]:
    """Give each flow its subflows; report subflows that do not exist and numbers bound twice."""
    errors: list[FlowError] = []
    linked: dict[str, Flow] = {}
    for flow in flows.values():
        subs: dict[str, Flow] = {}
        todo = [flow]
        while todo:
            current = todo.pop()
            for node_id, verb in current.nodes.items():
                target = verb.spec.get("flow") if verb.type_name == "subflow" else None
                if target is None or target in subs or target == flow.name:
                    continue
                if target not in flows:
                    if current is flow:
                        message = f"unknown flow '{target}'{did_you_mean(str(target), flows)}"
                        errors.append(flow.error(f"nodes.{node_id}.flow", message))
                    continue
                subs[str(target)] = flows[str(target)]
                todo.append(flows[str(target)])
        linked[flow.name] = replace(flow, subflows=MappingProxyType(subs))
    bound: dict[str, str] = {}
    for flow in flows.values():
        for i, number in enumerate(flow.numbers):
            if number in bound:
                message = f"number {number} is already bound to flow '{bound[number]}'"
                errors.append(flow.error(f"numbers.{i}", message))
            bound.setdefault(number, flow.name)
    return linked, errors


def load_paths(paths: Iterable[Path]) -> FlowSet:
    """Load every flow file; later paths override flows of the same name (site over shipped)."""
    out = FlowSet()
    raw: dict[str, Flow] = {}
    for path in flow_files(paths):
        flow, problems = check_file(path)
        out.errors += [e for e in problems if not e.is_warning]
        out.warnings += [e for e in problems if e.is_warning]
        if flow is not None:
            raw[flow.name] = flow
    out.flows, link_errors = link(raw)
    out.errors += link_errors
    return out
