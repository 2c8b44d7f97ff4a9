"""``ErrorList``: the problems found in one flow file, each located (line:column) from its YAML path."""

from __future__ import annotations

from ivr.flows.model import ERROR, FlowError
from ivr.flows.yamlpos import Path_, Positioned


class ErrorList:
    def __init__(self, file: str, doc: Positioned) -> None:
        self.file = file
        self.doc = doc
        self.items: list[FlowError] = []

    def add(self, path: Path_, message: str, *, key: bool = False, severity: str = ERROR) -> None:
        """Report ``message`` at ``path`` (at the key itself when ``key``, else at its value); once."""
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
