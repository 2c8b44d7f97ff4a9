"""UTC datetimes in the database: stored naive-in-UTC, always handed back timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import DateTime, TypeDecorator


def to_utc(value: datetime) -> datetime:
    """Convert an aware datetime to UTC; a naive one is rejected (we cannot know its zone)."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"naive datetime {value.isoformat()} given; pass a timezone-aware time (UTC)")
    return value.astimezone(UTC)


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a trailing "Z", or None."""
    if value is None:
        return None
    return to_utc(value).isoformat().replace("+00:00", "Z")


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp column holding UTC.

    Naive UTC on the wire keeps SQLite (which has no time zones) and PostgreSQL
    (``timestamp without time zone``) identical; values come back with ``tzinfo=UTC``.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        return to_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"database returned {type(value).__name__} for a timestamp")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
