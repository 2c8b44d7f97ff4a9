"""``ClippedString``: a ``VARCHAR(n)`` column for free text that comes from outside (numbers, causes,
outcomes, node names), cut to ``n`` characters where the database enforces the length.

PostgreSQL refuses a longer value (``value too long``): the whole write would fail and, being no
database outage, be dropped by the recorder — a call's ending lost for a long Asterisk cause. SQLite
ignores declared lengths and keeps the value whole, as it always has.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class ClippedString(TypeDecorator[str]):
    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or dialect.name == "sqlite":
            return value  # type: ignore[no-any-return]
        return str(value)[: self.length]

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        """Values compared with the column (``==``, ``LIKE`` patterns) are not cut: only stored ones."""
        return self.impl_instance
