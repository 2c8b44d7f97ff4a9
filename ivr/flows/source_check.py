"""``check_source``: is this YAML text, saved as flow ``name``, a flow the registry would make live?

Pure (no files): the loader's checks (``check_text``) with the registry's environment, the file name the
text will have, and the link check against the flows that are live now (unknown subflows, a number
another flow already has). Errors that the live set already has do not count against the new text, as
in ``FlowRegistry``. The browser's editor and its publish use it before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivr.flows.link import link
from ivr.flows.loader import check_text
from ivr.flows.model import Flow, FlowError

FLOW_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
"""A flow's name (the schema's pattern, bounded): also its file name, ``<name>.yaml``."""


@dataclass(frozen=True)
class SourceCheck:
    flow: Flow | None
    """The flow, when the text has no error."""
    errors: list[FlowError] = field(default_factory=list)
    warnings: list[FlowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.flow is not None and not self.errors


def check_source(
    text: str,
    file: str | Path,
    *,
    name: str,
    queues: frozenset[str],
    departments: Mapping[str, str],
    live: Mapping[str, Flow],
) -> SourceCheck:
    """Check ``text`` as the new version of flow ``name`` in ``file``; ``live`` is the registry's live
    flows by name (the current version of ``name`` among them, if any)."""
    flow, problems = check_text(text, file, queues=queues, departments=departments)
    errors = [e for e in problems if not e.is_warning]
    warnings = [e for e in problems if e.is_warning]
    if flow is not None and flow.name != name:
        errors.append(
            flow.error(
                "name", f"this flow is saved as '{name}': its name must be '{name}', not '{flow.name}'"
            )
        )
    if flow is None or errors:
        return SourceCheck(None, _ordered(errors), warnings)
    errors = _link_errors(flow, Path(file), live)
    return SourceCheck(None if errors else flow, _ordered(errors), warnings)


def _link_errors(flow: Flow, file: Path, live: Mapping[str, Flow]) -> list[FlowError]:
    baseline = {_key(e) for e in link(live)[1]}
    trial = {n: f for n, f in live.items() if n != flow.name}
    trial[flow.name] = flow  # last: a number it shares with another flow is its error
    out: list[FlowError] = []
    for error in link(trial)[1]:
        if _key(error) in baseline:
            continue
        if error.file != str(file):  # the edit breaks another flow
            error = FlowError(str(file), 1, 1, "", f"with this version, {error}")
        out.append(error)
    return out


def _key(error: FlowError) -> tuple[str, str, str]:
    return error.file, error.node_path, error.message


def _ordered(errors: list[FlowError]) -> list[FlowError]:
    return sorted(errors, key=lambda e: (e.line, e.column))
