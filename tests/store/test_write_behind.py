from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError

from ivr.store import CallRecorder, CallStore, Write, default_db_url, is_transient

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def wait_for(condition: Callable[[], bool], *, limit: float = 10.0) -> None:
    """Poll until ``condition`` holds (bounded; not a timing assertion)."""
    async with asyncio.timeout(limit):
        while not condition():  # noqa: ASYNC110 - polling a plain attribute
            await asyncio.sleep(0.01)


def node(call_id: str, node_id: str, t: float) -> Write:
    return lambda s: s.node_entered(call_id, node_id, at(t))


async def test_submit_applies_in_order(store: CallStore) -> None:
    recorder = CallRecorder(store)
    recorder.submit(lambda s: s.call_started("c1", "ch", "1", "n", "2", "shop", at(0)))
    for i in range(50):
        assert recorder.submit(node("c1", f"n{i}", i))
    assert await recorder.flush(10)
    call = await store.get_call("c1")
    assert call is not None and call["path"] == [f"n{i}" for i in range(50)]
    await recorder.close()


@pytest.mark.parametrize("backend", ["sqlite"])  # SQLite's write lock; PostgreSQL: its restart test
async def test_survives_locked_database_and_delivers_in_order(
    store: CallStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = CallRecorder(store, min_backoff_s=0.01, max_backoff_s=0.05)
    recorder.submit(lambda s: s.call_started("c1", "ch", "1", "n", "2", "shop", at(0)))
    assert await recorder.flush(10)

    # Another process takes the write lock: every write now fails with "database is locked".
    locker = sqlite3.connect(tmp_path / "ivr.db", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    caplog.set_level(logging.INFO, logger="ivr.store.write_behind")
    try:
        for i in range(20):
            recorder.submit(node("c1", f"n{i}", i))  # returns at once though the database is dead
        await wait_for(lambda: not recorder.healthy)
        await asyncio.sleep(0.3)  # let it retry several times
        for i in range(20, 30):
            recorder.submit(node("c1", f"n{i}", i))
        assert recorder.pending == 30
        assert not await recorder.flush(0.05)
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    assert await recorder.flush(10)
    assert recorder.healthy
    call = await store.get_call("c1")
    assert call is not None and call["path"] == [f"n{i}" for i in range(30)]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "database unavailable" in warnings[0].getMessage()
    assert any("database back" in r.getMessage() for r in caplog.records)
    await recorder.close()


class FlakyStore(CallStore):
    """Fails every write while ``down`` is set, as a dead PostgreSQL would."""

    down = False

    async def node_entered(self, call_id: str, node_id: str, at: datetime) -> None:
        if self.down:
            raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
        await super().node_entered(call_id, node_id, at)


async def test_outage_then_recovery_with_wrapper(tmp_path: Path) -> None:
    store = FlakyStore(default_db_url(tmp_path))
    await store.open()
    recorder = CallRecorder(store, min_backoff_s=0.01, max_backoff_s=0.02)
    store.down = True
    for i in range(10):
        recorder.submit(node("c1", f"n{i}", i))
    await wait_for(lambda: not recorder.healthy)
    assert recorder.pending == 10
    store.down = False
    assert await recorder.flush(10)
    call = await store.get_call("c1")
    assert call is not None and call["path"] == [f"n{i}" for i in range(10)]
    await recorder.close()
    await store.close()


async def test_non_database_error_is_dropped_not_blocking(
    store: CallStore, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = CallRecorder(store)

    async def broken(_s: CallStore) -> None:
        raise KeyError("bug")

    recorder.submit(node("c1", "a", 1))
    recorder.submit(broken)
    recorder.submit(node("c1", "b", 2))
    assert await recorder.flush(10)
    call = await store.get_call("c1")
    assert call is not None and call["path"] == ["a", "b"]
    assert recorder.dropped == 1
    assert any("dropped" in r.getMessage() for r in caplog.records)
    await recorder.close()


async def test_queue_is_bounded(tmp_path: Path) -> None:
    store = FlakyStore(default_db_url(tmp_path))
    await store.open()
    store.down = True
    recorder = CallRecorder(store, max_pending=3, min_backoff_s=0.01, max_backoff_s=0.02)
    results = [recorder.submit(node("c1", f"n{i}", i)) for i in range(5)]
    assert results == [True, True, True, False, False]
    assert recorder.dropped == 2
    store.down = False
    assert await recorder.flush(10)
    call = await store.get_call("c1")
    assert call is not None and call["path"] == ["n0", "n1", "n2"]
    await recorder.close()
    assert not recorder.submit(node("c1", "late", 9))
    await store.close()


async def test_close_gives_up_after_timeout_while_database_is_down(tmp_path: Path) -> None:
    store = FlakyStore(default_db_url(tmp_path))
    await store.open()
    store.down = True
    recorder = CallRecorder(store, min_backoff_s=0.01, max_backoff_s=0.02)
    recorder.submit(node("c1", "n0", 0))
    await recorder.close(timeout=0.1)
    assert recorder.pending == 1
    await store.close()


async def test_writes_wait_for_a_store_that_is_not_open_yet(tmp_path: Path) -> None:
    store = CallStore(default_db_url(tmp_path))
    recorder = CallRecorder(store, min_backoff_s=0.01, max_backoff_s=0.02)
    recorder.submit(node("early", "welcome", 0))
    await wait_for(lambda: not recorder.healthy)
    await store.open()
    assert await recorder.flush(10)
    call = await store.get_call("early")
    assert call is not None and call["path"] == ["welcome"]
    await recorder.close()
    await store.close()


async def test_run_task_and_lazy_start_share_one_writer(store: CallStore) -> None:
    recorder = CallRecorder(store)
    recorder.submit(node("c1", "a", 1))  # starts the writer lazily
    runner = asyncio.create_task(recorder.run())  # the application's explicit task: same writer
    recorder.submit(node("c1", "b", 2))
    assert await recorder.flush(10)
    runner.cancel()  # cancelling run() leaves the writer alive
    await asyncio.gather(runner, return_exceptions=True)
    recorder.submit(node("c1", "c", 3))
    assert await recorder.flush(10)
    call = await store.get_call("c1")
    assert call is not None and call["path"] == ["a", "b", "c"]
    await recorder.close()


def count_batches(store: CallStore) -> list[int]:
    """Counts the store's transactions of several writes (``batch()``): ``[n]``, reset by assigning 0."""
    count = [0]
    real_batch = store.batch

    def counting_batch():  # type: ignore[no-untyped-def]
        count[0] += 1
        return real_batch()

    store.batch = counting_batch  # type: ignore[method-assign]
    return count


async def test_queued_writes_share_transactions_and_a_bad_one_costs_only_itself(store: CallStore) -> None:
    batches = count_batches(store)

    async def bad(_store: CallStore) -> None:
        raise ValueError("a bug in one write")

    recorder = CallRecorder(store, batch_size=50)
    for i in range(40):
        recorder.submit(node("c1", f"n{i}", i))
        if i == 20:
            recorder.submit(bad)
    assert await recorder.flush(10)
    await recorder.close()

    record = await store.get_call("c1")
    assert record is not None
    assert record["path"] == [f"n{i}" for i in range(40)]  # all kept, in order
    assert recorder.dropped == 1
    assert 1 <= batches[0] < 40  # far fewer transactions than writes


async def test_writes_arriving_within_the_linger_share_one_transaction(store: CallStore) -> None:
    """Group commit: a quiet system's writes come one at a time; lingering lets them share."""
    transactions = count_batches(store)
    lingering, eager = CallRecorder(store, linger_s=0.2), CallRecorder(store)
    for recorder, call in ((lingering, "c1"), (eager, "c2")):
        transactions[0] = 0
        for i in range(3):
            recorder.submit(node(call, f"n{i}", i))
            await asyncio.sleep(0.02)  # apart, as one call's events are
        assert await recorder.flush(5)
        await recorder.close()
        record = await store.get_call(call)
        assert record is not None and record["path"] == ["n0", "n1", "n2"]
        if recorder is lingering:
            assert transactions == [1]
        else:
            assert transactions == [0]  # each write alone: its own transaction, no batch()


class DownThenUpStore:
    """A stand-in store whose writes fail ``failures`` times (database down), then succeed."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        self.applied: list[str] = []

    async def node_entered(self, call_id: str, node_id: str, at: datetime) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
        self.applied.append(node_id)


async def test_keeps_retrying_through_a_long_outage() -> None:
    fake = DownThenUpStore(failures=25)
    recorder = CallRecorder(cast(CallStore, fake), min_backoff_s=0.001, max_backoff_s=0.002)
    recorder.submit(node("c1", "menu", 1))
    assert await recorder.flush(10)  # applied once the database is back, however long it was down
    assert fake.applied == ["menu"]
    assert fake.attempts == 26
    assert recorder.dropped == 0 and recorder.healthy
    await recorder.close()


async def test_a_full_queue_drops_new_writes_with_one_log_line_and_a_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = FlakyStore(default_db_url(tmp_path))
    await store.open()
    store.down = True
    caplog.set_level(logging.INFO, logger="ivr.store.write_behind")
    recorder = CallRecorder(store, max_pending=50, min_backoff_s=0.01, max_backoff_s=0.02)
    accepted = [recorder.submit(node("c1", f"n{i}", i)) for i in range(1000)]  # never raises, never blocks
    assert accepted.count(True) == 50 and accepted[:50] == [True] * 50
    assert recorder.pending == 50  # memory bounded by max_pending, whatever the load
    assert recorder.dropped == 950
    full = [r for r in caplog.records if "queue full" in r.getMessage()]
    assert len(full) == 1 and full[0].levelname == "ERROR" and "50 pending" in full[0].getMessage()
    store.down = False
    assert await recorder.flush(10)
    again = [r.getMessage() for r in caplog.records if "room again" in r.getMessage()]
    assert again == ["call recorder queue has room again after dropping 950 writes"]
    call = await store.get_call("c1")
    assert call is not None and call["path"] == [f"n{i}" for i in range(50)]
    await recorder.close()
    await store.close()


class _PgError(Exception):
    """Stands in for asyncpg's error as SQLAlchemy wraps it: a plain DBAPI error with a SQLSTATE."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "transient"),
    [
        ("57P03", True),  # the database system is starting up / shutting down
        ("57P01", True),  # terminating connection due to administrator command
        ("08006", True),  # connection failure
        ("40P01", True),  # deadlock: the transaction was rolled back, a retry may pass
        ("53300", True),  # too many connections
        ("23505", False),  # unique violation: the write itself is wrong
        ("22001", False),  # value too long
        (None, False),
    ],
)
def test_postgresql_errors_are_transient_by_their_sqlstate(sqlstate: str | None, transient: bool) -> None:
    assert is_transient(DBAPIError("INSERT …", None, _PgError(sqlstate))) is transient
