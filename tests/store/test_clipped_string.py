"""Over-long free text from outside (a cause in an offer's outcome, a caller number) is not a lost write:
SQLite keeps it whole, PostgreSQL keeps its column's length of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect

from ivr.store import CallRecorder, CallStore
from ivr.store.clipped_string import ClippedString

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_cut_only_where_the_length_is_enforced() -> None:
    column, postgres = ClippedString(5), PGDialect()  # type: ignore[no-untyped-call]
    assert column.process_bind_param("abcdefgh", postgres) == "abcde"
    assert column.process_bind_param("山田太郎さん", postgres) == "山田太郎さ"  # characters, not bytes
    assert column.process_bind_param("abcdefgh", SQLiteDialect()) == "abcdefgh"
    assert column.process_bind_param(None, postgres) is None


async def test_over_long_values_are_recorded_not_lost(store: CallStore, backend: str) -> None:
    number = "0" * 300
    outcome = "failed:unreachable: " + "connection refused by the agent's phone " * 3
    cause = "caller hung up (1 " + "x" * 200 + ")"
    recorder = CallRecorder(store)
    recorder.submit(lambda s: s.call_started("c1", "ch1", number, "n", "2", "shop", at(0)))
    recorder.submit(lambda s: s.offer_started("c1", "alice", at(1)))
    recorder.submit(lambda s: s.offer_ended("c1", "alice", at(2), outcome))
    recorder.submit(lambda s: s.call_ended("c1", at(3), "abandoned", cause))
    assert await recorder.flush(10)
    await recorder.close()
    assert recorder.dropped == 0
    call = await store.get_call("c1")
    assert call is not None
    kept = {"sqlite": (number, outcome, cause), "postgresql": (number[:128], outcome[:32], cause[:128])}
    got = (call["caller"]["number"], call["offers"][0]["outcome"], call["hangup_cause"])
    assert got == kept[backend]
    assert call["outcome"] == "abandoned" and call["ended_at"] is not None
