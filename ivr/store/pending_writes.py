"""``PendingWrites``: a batch's call-record writes held back and sent as few statements as order allows.

A write is an INSERT of a child row (path step, input) or an UPDATE of the call's row. Writes are not
executed one by one (two statements each: the call's row first, then the write) but grouped:

- one ``INSERT … ON CONFLICT DO NOTHING`` (executemany) creates the rows of every call the batch
  touches that the store does not already know to exist, before anything else;
- writes of the same shape (same table, same columns, same condition) share one executemany, as long
  as no write in between touches the same thing: inserts into one table keep their order (their
  autoincrement ids order a call's path), updates of one call's row keep theirs.

So what the database ends up holding is what one-by-one execution would have left, in
``2 + shapes`` statements instead of ``2 × writes``. Pure bookkeeping here; ``Database`` executes.
"""

from __future__ import annotations

from collections.abc import Container, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.expression import UpdateBase

from ivr.store.models import Base

CALLS: Table = Base.metadata.tables["calls"]

_statements: dict[Hashable, UpdateBase] = {}
"""Statements by shape: built once, reused (SQLAlchemy caches their compiled form)."""


@dataclass
class Group:
    statement: UpdateBase
    params: list[dict[str, Any]]


@dataclass
class PendingWrites:
    ensure: dict[str, datetime] = field(default_factory=dict)
    """Calls whose row must exist first → the time of their first write in the batch."""
    groups: list[Group] = field(default_factory=list)
    calls_updated: set[str] = field(default_factory=set)
    """Calls whose row an UPDATE here changes (loaded copies of them are stale once it runs)."""
    _latest: dict[Hashable, int] = field(default_factory=dict)  # shape → index of its newest group
    _touched: dict[Hashable, int] = field(default_factory=dict)  # table or call → its last group's index

    def __bool__(self) -> bool:
        return bool(self.ensure or self.groups)

    def need_row(self, call_id: str, at: datetime) -> None:
        self.ensure.setdefault(call_id, at)

    def add_row(self, table: str, values: dict[str, Any]) -> None:
        shape = ("insert", table, tuple(values))
        if shape not in _statements:
            _statements[shape] = insert(Base.metadata.tables[table])
        self._add(shape, values, ("table", table))

    def update_call(self, call_id: str, where_null: tuple[str, ...], values: dict[str, Any]) -> None:
        shape = ("update", tuple(values), where_null)
        if shape not in _statements:
            where = [CALLS.c.id == bindparam("_call_id"), *(CALLS.c[name].is_(None) for name in where_null)]
            _statements[shape] = update(CALLS).where(*where)
        self._add(shape, {"_call_id": call_id, **values}, ("call", call_id))
        self.calls_updated.add(call_id)

    def _add(self, shape: Hashable, params: dict[str, Any], touches: Hashable) -> None:
        index = self._latest.get(shape)
        if index is not None and self._touched.get(touches, -1) <= index:
            self.groups[index].params.append(params)
        else:
            index = len(self.groups)
            self.groups.append(Group(_statements[shape], [params]))
            self._latest[shape] = index
        self._touched[touches] = index

    def take(self, dialect: str, known: Container[str]) -> list[tuple[UpdateBase, list[dict[str, Any]]]]:
        """The statements to run, in order, and forget them. ``known``: call ids whose row exists."""
        rows = [{"id": cid, "started_at": at} for cid, at in self.ensure.items() if cid not in known]
        out = [(group.statement, group.params) for group in self.groups]
        if rows:
            out.insert(0, (ensure_statement(dialect), rows))
        self.ensure, self.groups, self._latest, self._touched = {}, [], {}, {}
        self.calls_updated = set()
        return out


def ensure_statement(dialect: str) -> UpdateBase:
    """INSERT of call rows that does nothing for a row that exists (SQLite and PostgreSQL)."""
    shape = ("ensure", dialect)
    if shape not in _statements:
        if dialect == "sqlite":
            _statements[shape] = sqlite_insert(CALLS).on_conflict_do_nothing(index_elements=["id"])
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert  # not loaded for SQLite

            _statements[shape] = pg_insert(CALLS).on_conflict_do_nothing(index_elements=["id"])
        else:
            raise ValueError(f"no INSERT … ON CONFLICT DO NOTHING for the {dialect!r} dialect")
    return _statements[shape]
