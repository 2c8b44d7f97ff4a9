"""YAML → plain Python values plus the line/column of every value and key (for precise errors)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

Path_ = tuple[str, ...]
Pos = tuple[int, int]  # 1-based line, column


class YamlError(Exception):
    def __init__(self, line: int, column: int, path: Path_, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.path = path
        self.message = message


@dataclass
class Positioned:
    """The document as plain data, and where each part of it is."""

    data: Any
    values: dict[Path_, Pos] = field(default_factory=dict)  # path -> where the value starts
    keys: dict[Path_, Pos] = field(default_factory=dict)  # path -> where its key starts

    def pos(self, path: Path_, *, key: bool = False) -> Pos:
        """Best position for ``path``: the exact one, else the nearest enclosing one."""
        table = self.keys if key else self.values
        p = path
        while p:
            if p in table:
                return table[p]
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), (1, 1))


MAX_DEPTH = 64
"""Deepest nesting of mappings and lists a file may have (a hand-written flow needs under 10)."""
MAX_VALUES = 20_000
"""Most values a file may expand to: bounds YAML alias bombs ("billion laughs")."""

_KEEP_AS_TEXT = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"}
_BOOL_WORDS = {"true", "false"}


def _mark(node: yaml.Node) -> Pos:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def load_positioned(text: str) -> Positioned:
    """Parse one YAML document. Raises ``YamlError`` for bad syntax, duplicate keys, anchors tricks.

    Keys are always text (``1:`` is the key ``"1"``). ``yes``/``no``/``on``/``off`` stay text and dates
    stay text; only ``true``/``false`` are booleans. Nesting deeper than ``MAX_DEPTH``, an alias inside
    its own anchor and aliases expanding to more than ``MAX_VALUES`` values are refused.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except RecursionError:
        raise YamlError(1, 1, (), f"nested too deeply (at most {MAX_DEPTH} levels)") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        where = ""
        cm = exc.context_mark
        if exc.context and cm is not None and mark is not None and cm.line != mark.line:
            ctx = exc.context.replace("while parsing a ", "").replace("while parsing ", "")
            where = f" (in the {ctx} that starts on line {cm.line + 1}, column {cm.column + 1})"
        raise YamlError(line, col, (), f"YAML syntax error: {exc.problem or exc}{where}") from exc
    except yaml.YAMLError as exc:
        raise YamlError(1, 1, (), f"YAML syntax error: {exc}") from exc
    out = Positioned(data=None)
    if root is None:
        out.data = None
        return out
    constructor = SafeConstructor()
    open_nodes: set[int] = set()  # the collections being walked (an alias to one of them is a cycle)
    walked = 0

    def walk(node: yaml.Node, path: Path_) -> Any:
        nonlocal walked
        walked += 1
        line, col = _mark(node)
        if walked > MAX_VALUES:
            raise YamlError(line, col, path, f"too many values (over {MAX_VALUES}): YAML aliases expanding?")
        if len(path) > MAX_DEPTH:
            raise YamlError(line, col, path, f"nested too deeply (at most {MAX_DEPTH} levels)")
        if id(node) in open_nodes:
            raise YamlError(line, col, path, "an alias refers to a mapping or list that contains it")
        out.values[path] = (line, col)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            open_nodes.add(id(node))
            try:
                return walk_collection(node, path)
            finally:
                open_nodes.discard(id(node))
        assert isinstance(node, yaml.ScalarNode)
        if node.tag in _KEEP_AS_TEXT:
            return str(node.value)
        if node.tag == "tag:yaml.org,2002:bool" and str(node.value).lower() not in _BOOL_WORDS:
            return str(node.value)
        try:
            return constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):  # `!!int x`, an unknown `!tag`, an int of 5000 digits
            tag = str(node.tag).removeprefix("tag:yaml.org,2002:")
            raise YamlError(line, col, path, f"cannot read this value as {tag}") from None

    def walk_collection(node: yaml.Node, path: Path_) -> Any:
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    line, col = _mark(key_node)
                    raise YamlError(line, col, path, "a key must be plain text")
                key = str(key_node.value)
                if key == "<<":
                    line, col = _mark(key_node)
                    raise YamlError(line, col, path, "merge keys (<<) are not supported in flows")
                if key in result:
                    line, col = _mark(key_node)
                    first = out.keys[(*path, key)]
                    raise YamlError(
                        line, col, (*path, key), f"duplicate key '{key}' (first defined on line {first[0]})"
                    )
                out.keys[(*path, key)] = _mark(key_node)
                result[key] = walk(value_node, (*path, key))
            return result
        return [walk(item, (*path, str(i))) for i, item in enumerate(node.value)]

    out.data = walk(root, ())
    return out
