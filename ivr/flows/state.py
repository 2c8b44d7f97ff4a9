"""One call's data as the engine and the verbs see it: ``CallContext`` (how the call came in) and
``CallState`` (where it is in the flow). Plain data, no behaviour; ``ivr.flows.engine`` re-exports both."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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
