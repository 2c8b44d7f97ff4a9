"""One call's data as the engine and the verbs see it: ``CallContext`` (how the call came in) and
``CallState`` (where it is in the flow). Plain data, no behaviour; ``ivr.flows.engine`` re-exports both."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class CallContext:
    call_id: str
    caller_number: str = ""
    caller_name: str | None = None
    dialed: str = ""
    lang: str | None = None
    now: datetime = field(default_factory=lambda: datetime(1970, 1, 1, tzinfo=UTC))
    vars: Mapping[str, str] = field(default_factory=dict)
    """Site settings as variables (e.g. ``services.orders``); override the flow's ``vars``."""


@dataclass
class CallState:
    call_id: str
    flow: str
    version: str
    lang: str
    frame: str  # the flow whose node is running (differs from ``flow`` inside a subflow)
    node: str | None = None
    stack: list[tuple[str, str | None]] = field(default_factory=list)
    vars: dict[str, str] = field(default_factory=dict)
    local: dict[str, Any] = field(default_factory=dict)  # the running node's own state
    sensitive_vars: list[str] = field(default_factory=list)
    counter: int = 0  # play/request ids
    entry_seq: int = 0  # node entries (scopes timer names)
    path: list[str] = field(default_factory=list)
    typeahead: str = ""  # keys pressed during nodes that take no input, for the next input node
    finished: bool = False
    outcome: str | None = None

    def fork(self) -> CallState:
        """A copy to change while this one stays as it was (what the engine steps: state in, new
        state out). Lists, dicts and sets are copied all the way down; strings, numbers and tuples of
        them are immutable and shared; anything else is deep-copied. Far cheaper than ``deepcopy``."""
        return CallState(**{name: _fork_value(getattr(self, name)) for name in _FIELDS})


_FIELDS = tuple(f.name for f in fields(CallState))
_ATOMS = frozenset({str, int, float, bool, type(None)})


def _fork_value(value: Any) -> Any:
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is list:
        return [v if type(v) in _ATOMS else _fork_value(v) for v in value]
    if kind is dict:
        return {k: v if type(v) in _ATOMS else _fork_value(v) for k, v in value.items()}
    if kind is tuple and all(type(v) in _ATOMS for v in value):
        return value
    if kind is set:
        return set(value)  # members are hashable: immutable in practice
    return copy.deepcopy(value)
