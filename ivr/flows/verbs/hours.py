"""``hours``: business hours per weekday and a holiday calendar in a time zone → open / closed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.flows.verbs.base import DEFAULT_ENV, NODE_REF, CheckEnv, Edge, Go, RelPath, Result, Verb, VerbCtx

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_range(text: str) -> tuple[time, time]:
    m = _RANGE.match(text)
    if m is None:
        raise ValueError(text)
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
    return time(h1 % 24, m1), end


OVERRIDE_VAR = "hours.override"
"""Site variable: ``open`` or ``closed`` forces every ``hours`` node; empty follows the calendar."""


@dataclass(frozen=True)
class OpeningHours:
    """A parsed ``hours`` node: time zone name, open ranges per weekday (``mon``…) and holiday dates."""

    timezone: str
    weekly: Mapping[str, tuple[tuple[time, time], ...]]
    holidays: frozenset[str]

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> OpeningHours:
        weekly = {
            str(day): tuple(_parse_range(str(text)) for text in ranges)
            for day, ranges in spec.get("weekly", {}).items()
        }
        holidays = frozenset(str(d) for d in spec.get("holidays", []))
        return cls(str(spec.get("timezone", "Asia/Tokyo")), weekly, holidays)


def is_open(hours: OpeningHours, now: datetime) -> str:
    """``"open"``, ``"closed"`` or ``"holiday"`` at ``now`` (aware; naive means UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo("UTC"))
    local = now.astimezone(ZoneInfo(hours.timezone))
    if local.date().isoformat() in hours.holidays:
        return "holiday"
    for start, end in hours.weekly.get(DAYS[local.weekday()], ()):
        if start <= local.time() < end:
            return "open"
    return "closed"


class Hours(Verb):
    type_name = "hours"
    description = "Branch on business hours: `open`, `closed` (and `holiday`, else closed)."
    schema: ClassVar[dict[str, Any]] = {
        "timezone": {"type": "string", "description": "IANA time zone, e.g. Asia/Tokyo"},
        "weekly": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                d: {"type": "array", "items": {"type": "string", "pattern": _RANGE.pattern}} for d in DAYS
            },
        },
        "holidays": {"type": "array", "items": {"type": "string", "pattern": _DATE.pattern}},
        "open": NODE_REF,
        "closed": NODE_REF,
        "holiday": NODE_REF,
    }
    required = ("timezone", "weekly", "open", "closed")

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.hours = OpeningHours.parse(spec)
        closed = str(spec["closed"])
        self.nodes = {
            "open": str(spec["open"]),
            "closed": closed,
            "holiday": str(spec.get("holiday", closed)),
        }
        """Where each state (and each override) sends the call; a holiday without its own node is closed."""

    def start(self, ctx: VerbCtx) -> Result:
        # A supervisor's switch (site setting IVR_HOURS_OVERRIDE): force the line open or closed.
        override = ctx.vars.get(OVERRIDE_VAR, "").strip().lower()
        if override in ("open", "closed"):
            return Result(transition=Go(self.nodes[override]))
        return Result(transition=Go(self.nodes[is_open(self.hours, ctx.now)]))

    def targets(self) -> list[Edge]:
        return self._edge("open", "open") + self._edge("closed", "closed") + self._edge("holiday", "holiday")

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        try:
            ZoneInfo(self.hours.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return [(("timezone",), f"unknown time zone '{self.hours.timezone}' (e.g. Asia/Tokyo)")]
        return []
