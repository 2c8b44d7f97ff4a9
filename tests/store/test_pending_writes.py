from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect

from ivr.store.pending_writes import PendingWrites, ensure_statement

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def path(call_id: str, node: str) -> dict[str, object]:
    return {"call_id": call_id, "node_id": node, "at": T0}


def test_interleaved_calls_share_one_statement_per_shape_after_one_create() -> None:
    pending = PendingWrites()
    for call_id in ("a", "b", "c"):
        pending.need_row(call_id, T0)
        pending.update_call(call_id, (), {"flow": "shop"})
    for node in ("welcome", "menu"):
        for call_id in ("a", "b", "c"):
            pending.add_row("call_path", path(call_id, node))
    for call_id in ("a", "b", "c"):
        pending.update_call(call_id, ("answered_at",), {"answered_at": T0})
    sent = pending.take("sqlite", known=())
    assert [len(params) for _, params in sent] == [3, 3, 6, 3]  # create, started, path, answered
    assert [p["_call_id"] for p in sent[1][1]] == ["a", "b", "c"]
    assert [(p["call_id"], p["node_id"]) for p in sent[2][1]] == [
        ("a", "welcome"),
        ("b", "welcome"),
        ("c", "welcome"),
        ("a", "menu"),
        ("b", "menu"),
        ("c", "menu"),
    ]
    assert not pending  # taken: nothing left


def test_one_calls_updates_keep_their_order_across_shapes() -> None:
    pending = PendingWrites()
    pending.update_call("a", (), {"outcome": "first"})
    pending.update_call("a", (), {"queue": "orders"})
    pending.update_call("b", (), {"outcome": "b"})  # joins the first group: b was not touched since
    pending.update_call("a", (), {"outcome": "last"})  # after a's queue update: must not move before it
    sent = pending.take("sqlite", known=())
    outcomes = [[p.get("outcome") or p.get("queue") for p in params] for _, params in sent]
    assert outcomes == [["first", "b"], ["orders"], ["last"]]


def test_calls_known_to_exist_are_not_created_again() -> None:
    pending = PendingWrites()
    pending.need_row("old", T0)
    pending.need_row("new", T0)
    pending.need_row("new", datetime(2030, 1, 1, tzinfo=UTC))  # the first write's time is the start
    pending.add_row("call_path", path("new", "x"))
    create, _path = pending.take("sqlite", known={"old"})
    assert create[1] == [{"id": "new", "started_at": T0}]


def test_statements_render_for_sqlite_and_postgresql() -> None:
    pending = PendingWrites()
    pending.update_call("a", ("answered_at",), {"answered_at": T0})
    pending.add_row("call_inputs", {"call_id": "a", "node_id": "m", "kind": "dtmf", "value": "1", "at": T0})
    statements = [group.statement for group in pending.groups]
    postgres = PGDialect()  # type: ignore[no-untyped-call]
    for name, dialect in (("sqlite", SQLiteDialect()), ("postgresql", postgres)):
        create = str(ensure_statement(name).compile(dialect=dialect))
        assert create.startswith("INSERT INTO calls") and "ON CONFLICT (id) DO NOTHING" in create
        answered, inputs = (str(s.compile(dialect=dialect)) for s in statements)
        assert "calls.answered_at IS NULL" in answered
        assert inputs.startswith("INSERT INTO call_inputs")
