"""The filters of ``GET /api/calls``: query string → keyword arguments of ``CallStore.search_calls``.

    number   a part of the caller's number (digits, ``+``, ``*``, ``#``; up to 32 characters)
    since    calls that started at or after: ISO 8601 date or time (no zone: UTC), or ``today``
    until    calls that started before: the same forms (``today`` is midnight UTC at today's start)
    queue, agent, outcome, flow   exact names

A bad value is a ``CallQueryError`` naming the parameter (the route answers 422).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

FILTERS = ("number", "since", "until", "queue", "agent", "outcome", "flow")
_NUMBER = re.compile(r"^[0-9+*#]{1,32}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")


class CallQueryError(ValueError):
    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


def parse_when(raw: str, now: datetime) -> datetime:
    """ISO 8601 date or date-time (naive means UTC), or ``today`` (midnight UTC of ``now``'s day)."""
    if raw == "today":
        return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    value = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def call_filters(query: Mapping[str, str], now: datetime) -> dict[str, Any]:
    """The given filters (empty values are left out), checked; raises ``CallQueryError``."""
    found: dict[str, Any] = {}
    for name in FILTERS:
        raw = query.get(name, "").strip()
        if not raw:
            continue
        if name in ("since", "until"):
            try:
                found[name] = parse_when(raw, now)
            except ValueError:
                raise CallQueryError(name, f"{name} must be an ISO 8601 date or time, or 'today'") from None
        elif name == "number":
            if not _NUMBER.match(raw):
                raise CallQueryError(name, "number must be up to 32 of the characters 0-9 + * #")
            found[name] = raw
        elif not _NAME.match(raw):
            raise CallQueryError(name, f"{name} must be a name of letters, digits and _ . : @ -")
        else:
            found[name] = raw
    since, until = found.get("since"), found.get("until")
    if since is not None and until is not None and until <= since:
        raise CallQueryError("until", "until must be later than since")
    return found
