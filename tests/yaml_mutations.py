"""Hypothesis strategies for hostile YAML: real files mutated line by line or value by value, alias
bombs, deep nesting and plain random text. Shared by the flow and ACD config fuzz tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import yaml
from hypothesis import strategies as st

ODD_SCALARS = [
    "~",
    "null",
    "true",
    "no",
    "0",
    "-1",
    "1e400",
    ".nan",
    ".inf",
    "-.inf",
    "1" * 400,
    "0x1F",
    "0o17",
    "2026-13-45",
    "!!int xyz",
    "!!float .",
    "!custom 1",
    "!!python/object:os.system {}",
    "[]",
    "{}",
    "[1, [2, [3]]]",
    "{a: {b: c}}",
    '"\\t\\u0000\\U0001F600"',
    "'x' 'y'",
    "|\n  block\n  text",
    "*undefined",
    "&anchor value",
    "\U0001f4de 電話",
    "x" * 5000,
    "'" + "é" * 2000 + "'",
    "{{ 'jinja' }}",
    "%s%n%x",
    "'; DROP TABLE calls; --",
]

BILLION_LAUGHS = "\n".join(
    ["lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    + [f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 9)]
)
"""Ten to the ninth values once expanded: a loader must refuse it quickly, not build it."""

SELF_ALIAS = "loop: &loop [a, *loop]\nself: &me {again: *me}"

scalar_text = st.one_of(
    st.sampled_from(ODD_SCALARS),
    st.integers().map(str),
    st.floats().map(repr),
    st.text(max_size=40).map(lambda s: json.dumps(s, ensure_ascii=False)),
)

_Lines = list[str]
_Draw = Callable[[st.SearchStrategy[Any]], Any]


def _index(draw: _Draw, lines: _Lines) -> int:
    return int(draw(st.integers(0, max(len(lines) - 1, 0))))


def _delete(draw: _Draw, lines: _Lines) -> _Lines:
    i = _index(draw, lines)
    return lines[:i] + lines[i + 1 :]


def _duplicate(draw: _Draw, lines: _Lines) -> _Lines:
    i = _index(draw, lines)
    return lines[: i + 1] + lines[i:]


def _swap(draw: _Draw, lines: _Lines) -> _Lines:
    i, j = _index(draw, lines), _index(draw, lines)
    out = list(lines)
    if out:
        out[i], out[j] = out[j], out[i]
    return out


def _change_value(draw: _Draw, lines: _Lines) -> _Lines:
    """``key: value`` → ``key: <another type>`` (or a list item's value)."""
    i = _index(draw, lines)
    out = list(lines)
    if not out:
        return out
    line = out[i]
    head, sep, _ = line.partition(": ")
    if not sep:
        head, sep, _ = line.partition("- ")
    out[i] = f"{head}{sep or ': '}{draw(scalar_text)}"
    return out


def _indent(draw: _Draw, lines: _Lines) -> _Lines:
    i = _index(draw, lines)
    out = list(lines)
    if out:
        out[i] = draw(st.sampled_from(["\t", "  ", " ", "    \t"])) + out[i]
    return out


def _insert(draw: _Draw, lines: _Lines) -> _Lines:
    i = _index(draw, lines)
    extra = draw(
        st.one_of(
            st.sampled_from(
                [BILLION_LAUGHS, SELF_ALIAS, "---", "...", "? complex\n: key", "<<: *x", "%YAML 1.1"]
            ),
            st.integers(10, 400).map(lambda n: "deep: " + "[" * n + "]" * n),
            st.integers(10, 200).map(lambda n: "".join(f"{'  ' * k}k{k}:\n" for k in range(n))),
            st.text(max_size=30),
        )
    )
    return lines[:i] + str(extra).splitlines() + lines[i:]


def _truncate(draw: _Draw, lines: _Lines) -> _Lines:
    text = "\n".join(lines)
    cut = int(draw(st.integers(0, len(text))))
    return text[:cut].splitlines()


_OPS = (_delete, _duplicate, _swap, _change_value, _indent, _insert, _truncate)


@st.composite
def mutated_text(draw: _Draw, sources: Sequence[str]) -> str:
    """One of ``sources`` with 1 to 4 line-level mutations."""
    lines = str(draw(st.sampled_from(list(sources)))).splitlines()
    for _ in range(int(draw(st.integers(1, 4)))):
        lines = draw(st.sampled_from(_OPS))(draw, lines)
    return "\n".join(lines) + "\n"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, (*path, i))
    return out


@st.composite
def mutated_tree(draw: _Draw, sources: Sequence[str]) -> str:
    """One of ``sources`` parsed, 1 to 3 of its values replaced by random values or removed, dumped back:
    well-formed YAML whose structure is wrong in depth (the checkers' side, not the parser's)."""
    data = yaml.safe_load(draw(st.sampled_from(list(sources))))
    for _ in range(int(draw(st.integers(1, 3)))):
        path = draw(st.sampled_from(_paths(data)))
        if not path:
            data = draw(json_values)
            continue
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            parent[path[-1]] = draw(json_values)
        else:
            del parent[path[-1]]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def any_yaml(sources: Sequence[str]) -> st.SearchStrategy[str]:
    """Mutated real files, tree-mutated real files, or random text."""
    return st.one_of(mutated_text(sources), mutated_tree(sources), st.text(max_size=300))
