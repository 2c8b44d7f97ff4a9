"""Writes sent coalesced (held back per batch, executemany, known rows not created again) leave the
database exactly as writes run one by one do."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event

from ivr.store import CallRecorder, CallStore, Write

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def one_write(kind: str, cid: str, i: int, t: float) -> Write:
    if kind == "start":
        return lambda s: s.call_started(cid, f"ch-{cid}", "1", "n", "2", "shop", at(t))
    if kind == "node":
        return lambda s: s.node_entered(cid, f"n{i}", at(t))
    if kind == "input":
        return lambda s: s.input_taken(cid, f"n{i}", "dtmf", str(i), i % 2 == 0, at(t))
    if kind == "answer":  # only the first counts
        return lambda s: s.call_answered(cid, at(t))
    if kind == "queue":
        return lambda s: s.queue_entered(cid, f"q{i}", at(t))
    if kind == "offer":  # an ORM write between held-back ones
        return lambda s: s.offer_started(cid, "alice", at(t))
    return lambda s: s.call_ended(cid, at(t), f"o{i}", i)  # more than once: the last one wins


def random_writes(seed: int, calls: int = 12, per_call: int = 12) -> list[Write]:
    """Calls' writes interleaved at random; some calls' first write is not call_started (adopted calls)."""
    rng = random.Random(seed)
    queues: list[list[Write]] = []
    for n in range(calls):
        cid = f"c{n}"
        writes = [one_write("start", cid, 0, n)] if rng.random() < 0.8 else []
        kinds = ("node", "node", "input", "answer", "queue", "offer", "end")
        writes += [one_write(rng.choice(kinds), cid, i, n + i + 1) for i in range(per_call)]
        queues.append(writes)
    out: list[Write] = []
    while queues:
        q = rng.choice(queues)
        out.append(q.pop(0))
        if not q:
            queues.remove(q)
    return out


async def record_all(
    new_store_url: Callable[[str], str], name: str, coalesce: bool, writes: list[Write], batch_size: int
) -> list[dict[str, Any]]:
    store = CallStore(new_store_url(name), coalesce_writes=coalesce)
    await store.open()
    recorder = CallRecorder(store, batch_size=batch_size)
    for write in writes:
        recorder.submit(write)
    assert await recorder.flush(30)
    assert recorder.dropped == 0
    await recorder.close()
    records = await store.list_calls(limit=1000)
    await store.close()
    return sorted(records, key=lambda r: str(r["id"]))


async def test_coalesced_writes_leave_the_same_records_as_one_by_one(
    new_store_url: Callable[[str], str],
) -> None:
    for seed in range(4):
        writes = random_writes(seed)
        expected = await record_all(new_store_url, f"plain{seed}", False, writes, batch_size=1)
        for batch_size in (1, 7, 200):
            got = await record_all(new_store_url, f"co{seed}-{batch_size}", True, writes, batch_size)
            assert got == expected, (seed, batch_size)
        assert any(r["path"] for r in expected) and any(r["outcome"] for r in expected)


class Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.seen.append(statement)

    def creates(self) -> int:
        return sum(s.startswith("INSERT INTO calls ") for s in self.seen)


async def test_a_committed_calls_row_is_not_created_again_but_forgotten_after_a_failure(
    store_url: str,
) -> None:
    store = CallStore(store_url)
    await store.open()
    statements = Statements()
    event.listen(Engine, "before_cursor_execute", statements)
    try:
        await store.node_entered("c1", "a", at(1))
        assert statements.creates() == 1
        await store.node_entered("c1", "b", at(2))
        await store.call_answered("c1", at(3))
        assert statements.creates() == 1  # known to exist: straight to the write
        try:
            async with store.batch():
                await store.node_entered("c1", "c", at(4))
                raise RuntimeError("the batch fails after the write")
        except RuntimeError:
            pass
        await store.node_entered("c1", "d", at(5))
        assert statements.creates() == 2  # after a rollback the store makes sure again
    finally:
        event.remove(Engine, "before_cursor_execute", statements)
    record = await store.get_call("c1")
    assert record is not None and record["path"] == ["a", "b", "d"]
    assert record["started_at"] == "2025-03-01T09:00:01Z"
    await store.close()


async def test_a_batch_of_many_calls_writes_is_a_few_statements(store_url: str) -> None:
    store = CallStore(store_url)
    await store.open()
    statements = Statements()
    event.listen(Engine, "before_cursor_execute", statements)
    try:
        async with store.batch():
            for n in range(50):
                await store.call_started(f"c{n}", "ch", "1", "n", "2", "shop", at(n))
                await store.node_entered(f"c{n}", "welcome", at(n))
                await store.call_answered(f"c{n}", at(n))
    finally:
        event.remove(Engine, "before_cursor_execute", statements)
    writes = [s for s in statements.seen if s.startswith(("INSERT", "UPDATE"))]
    assert len(writes) == 4  # create, started, path, answered: 150 writes
    assert len(await store.list_calls(limit=100)) == 50
    await store.close()


async def test_an_orm_write_after_held_back_updates_sees_them(new_store_url: Callable[[str], str]) -> None:
    """A call row loaded by an earlier write of the batch is read again after held-back updates."""
    outcomes = []
    for coalesce in (False, True):
        store = CallStore(new_store_url(str(coalesce)), coalesce_writes=coalesce)
        await store.open()
        kept = []  # a row the session still holds (as a write holding it would): stale unless reloaded
        async with store.batch():
            await store.offer_started("c1", "alice", at(1))
            async with store._tx() as session:
                kept.append(await store._call(session, "c1", at(1)))
            await store.call_started("c1", "ch-1", "1", "n", "2", "shop", at(0))
            await store.call_ended("c1", at(5), "abandoned", "16")
            # an ended call's offers are closed whatever channels the controller has
            await store.close_open_offers("c1", at(5), "abandoned", if_caller_in={"another-channel"})
        record = await store.get_call("c1")
        assert record is not None
        outcomes.append([(o["agent"], o["outcome"]) for o in record["offers"]])
        await store.close()
    assert outcomes[1] == outcomes[0] == [("alice", "cancelled")]
