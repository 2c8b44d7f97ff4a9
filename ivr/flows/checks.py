"""Semantic checks of one flow (after the schema): references, variables, languages, reachability and
loops. Pure; what the site knows (queues, departments) comes in through ``CheckEnv``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivr.flows.errorlist import ErrorList
from ivr.flows.promptspec import template_names
from ivr.flows.suggest import did_you_mean
from ivr.flows.verbs.base import CheckEnv, Verb
from ivr.flows.yamlpos import Path_

BUILTIN_VARS = frozenset({"caller.number", "caller.name", "dialed", "lang", "call.id"})
DEFAULT_VARS = {"services.orders": "http://127.0.0.1:8080/demo"}


def _scc(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan): the loops of ``graph``."""
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


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``data[key]`` when it is a mapping, else empty (a wrong type is the schema's error to report)."""
    value = data.get(key)
    return value if isinstance(value, Mapping) else {}


def check_semantics(
    data: Mapping[str, Any], nodes: Mapping[str, Verb], errs: ErrorList, env: CheckEnv, *, structural_ok: bool
) -> None:
    """Report what the schema cannot see: unknown nodes, queues, departments and variables, prompts
    missing a language, unreachable nodes and loops that never wait for the caller."""
    node_ids = list(_mapping(data, "nodes"))
    languages = env.languages
    if data.get("default_language", languages[0]) not in languages:
        errs.add(
            ("default_language",), f"'{data['default_language']}' is not one of languages {list(languages)}"
        )
    entry = str(data.get("entry", ""))
    if entry and entry not in node_ids:
        errs.add(("entry",), f"unknown node '{entry}'{did_you_mean(entry, node_ids)}")
    known_vars = set(BUILTIN_VARS) | set(DEFAULT_VARS) | {str(k) for k in _mapping(data, "vars")}
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
