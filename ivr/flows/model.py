"""A loaded flow: immutable, shared by every call that started on this version."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from ivr.flows.verbs.base import Verb

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class FlowError:
    """An admin-facing problem: ``shop.yaml:42:7: nodes.main_menu.options.1.goto: unknown node …``.

    ``severity`` is ``"error"`` (the flow is rejected) or ``"warning"`` (reported by ``ivr flows check``
    as ``…: nodes.x.prompt.ja: warning: …``; the flow still loads).
    """

    file: str
    line: int
    column: int
    node_path: str
    message: str
    severity: str = "error"

    @property
    def is_warning(self) -> bool:
        return self.severity == WARNING

    def __str__(self) -> str:
        where = f"{self.node_path}: " if self.node_path else ""
        label = f"{self.severity}: " if self.is_warning else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{label}{self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "node_path": self.node_path,
            "message": self.message,
            "severity": self.severity,
            "text": str(self),
        }


@dataclass(frozen=True)
class Flow:
    name: str
    file: Path
    version: str  # content hash
    languages: tuple[str, ...]
    default_language: str
    entry: str
    nodes: Mapping[str, Verb]
    numbers: tuple[str, ...] = ()
    vars: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    description: str = ""
    positions: Mapping[str, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))
    """Dotted path → (line, column), for errors found after loading (e.g. an unknown subflow)."""
    subflows: Mapping[str, Flow] = field(default_factory=lambda: MappingProxyType({}))
    """Other flows this one may enter (resolved when the set of flows is linked)."""

    def error(self, node_path: str, message: str) -> FlowError:
        line, col = self.positions.get(node_path, (1, 1))
        return FlowError(str(self.file), line, col, node_path, message)

    def flow_named(self, name: str) -> Flow:
        if name == self.name:
            return self
        return self.subflows[name]
