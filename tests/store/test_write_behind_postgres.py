"""The write-behind recorder on PostgreSQL: the server restarts while writes are being submitted and
applied, and every write still lands exactly once, in order."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ivr.store import CallRecorder, CallStore
from ivr.testing.postgres import PostgresCluster
from tests.store.test_write_behind import node, wait_for


async def _paths(store: CallStore, call_ids: set[str]) -> dict[str, list[str]]:
    paths: dict[str, list[str]] = {}
    for call_id in call_ids:
        call = await store.get_call(call_id)
        assert call is not None
        paths[call_id] = list(call["path"])
    return paths


async def test_every_write_lands_once_across_a_postgresql_restart(  # on a cluster of its own
    pg_private_cluster: PostgresCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="ivr.store.write_behind")
    store = CallStore(pg_private_cluster.create_database("ivr"), ping_timeout_s=0.5)
    await store.open()
    recorder = CallRecorder(store, min_backoff_s=0.02, max_backoff_s=0.25, batch_size=20)
    submitted: list[tuple[str, str]] = []
    outage_seen = False
    restarted = asyncio.Event()

    async def submit_until_after_restart() -> None:
        nonlocal outage_seen
        i = 0
        after = 0
        while after < 200:  # keep going through the restart and 200 writes beyond it
            call_id, node_id = f"c{i % 7}", f"n{i}"
            assert recorder.submit(node(call_id, node_id, i * 0.001))
            submitted.append((call_id, node_id))
            outage_seen = outage_seen or not recorder.healthy
            after += restarted.is_set()
            i += 1
            await asyncio.sleep(0.002)

    producer = asyncio.create_task(submit_until_after_restart())
    try:
        await wait_for(lambda: len(submitted) - recorder.pending >= 100, limit=60)  # writer busy applying
        await asyncio.to_thread(pg_private_cluster.restart, down_s=1.0)
        restarted.set()
        await producer
        assert await recorder.flush(60)
        paths = await _paths(store, {call_id for call_id, _ in submitted})
    finally:
        producer.cancel()
        await recorder.close()
        await store.close()

    assert outage_seen, "the writer never saw the restart: the test proved nothing"
    assert recorder.dropped == 0
    for call_id, path in paths.items():  # every write once (none lost, none applied twice), in order
        assert path == [node_id for c, node_id in submitted if c == call_id]
    assert sum(len(path) for path in paths.values()) == len(submitted)
    assert "database unavailable" in caplog.text and "database back" in caplog.text
