"""``hours``: business hours per weekday and a holiday calendar in a time zone → open / closed."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ivr.flows.verbs.base import NODE_REF, CheckEnv, Edge, Go, RelPath, Result, Verb, VerbCtx

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


def is_open(spec: dict[str, Any], now: datetime) -> str:
    """``"open"``, ``"closed"`` or ``"holiday"`` at ``now`` (aware; naive means UTC)."""
    tz = ZoneInfo(str(spec.get("timezone", "Asia/Tokyo")))
    if now.tzinfo is None:
        now = now.replace(tzinfo=ZoneInfo("UTC"))
    local = now.astimezone(tz)
    if local.date().isoformat() in [str(d) for d in spec.get("holidays", [])]:
        return "holiday"
    for text in spec.get("weekly", {}).get(DAYS[local.weekday()], []):
        start, end = _parse_range(str(text))
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

    def start(self, ctx: VerbCtx) -> Result:
        # A supervisor's switch (site setting IVR_HOURS_OVERRIDE): force the line open or closed.
        override = ctx.vars.get(OVERRIDE_VAR, "").strip().lower()
        if override in ("open", "closed"):
            return Result(transition=Go(str(self.spec[override])))
        state = is_open(dict(self.spec), ctx.now)
        if state == "holiday":
            return Result(transition=Go(str(self.spec.get("holiday", self.spec["closed"]))))
        return Result(transition=Go(str(self.spec[state])))

    def targets(self) -> list[Edge]:
        return self._edge("open", "open") + self._edge("closed", "closed") + self._edge("holiday", "holiday")

    def check(self, env: CheckEnv) -> list[tuple[RelPath, str]]:
        try:
            ZoneInfo(str(self.spec["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            return [(("timezone",), f"unknown time zone '{self.spec['timezone']}' (e.g. Asia/Tokyo)")]
        return []
