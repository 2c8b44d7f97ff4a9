"""Recordings in the store: started, paused and resumed spans, ended, shown on the call, deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.store import CallStore

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NAME = "2026-12-01/c1-1"


async def _recorded(store: CallStore) -> None:
    await store.call_started("c1", "ch-1", "0312345678", "Caller", "100", "shop", T0)
    await store.recording_started("c1", NAME, f"{NAME}.wav", T0 + timedelta(seconds=10))


async def test_call_record_lists_recording_with_its_pause_span(store: CallStore) -> None:
    await _recorded(store)
    await store.recording_paused(NAME, "operator", "alice", T0 + timedelta(seconds=20))
    await store.recording_paused(NAME, "supervisor", "bob", T0 + timedelta(seconds=21))  # already paused
    await store.recording_resumed(NAME, T0 + timedelta(seconds=30))
    await store.recording_ended(NAME, T0 + timedelta(seconds=60))
    record = await store.get_call("c1")
    assert record is not None
    [rec] = record["recordings"]
    assert rec["url"] == f"/api/recordings/{rec['id']}"
    assert rec["started_at"] == "2026-12-01T09:00:10Z"
    assert rec["ended_at"] == "2026-12-01T09:01:00Z"
    assert rec["pauses"] == [
        {
            "reason": "operator",
            "by": "alice",
            "paused_at": "2026-12-01T09:00:20Z",
            "resumed_at": "2026-12-01T09:00:30Z",
        }
    ]
    assert await store.recording_file(rec["id"]) == f"{NAME}.wav"


async def test_a_pause_open_at_the_end_closes_with_the_recording(store: CallStore) -> None:
    await _recorded(store)
    await store.recording_paused(NAME, "sensitive", None, T0 + timedelta(seconds=20))
    await store.recording_ended(NAME, T0 + timedelta(seconds=40))
    record = await store.get_call("c1")
    assert record is not None
    assert record["recordings"][0]["pauses"][0]["resumed_at"] == "2026-12-01T09:00:40Z"


async def test_running_or_deleted_recordings_have_no_file(store: CallStore) -> None:
    await _recorded(store)
    record = await store.get_call("c1")
    assert record is not None
    rec_id = record["recordings"][0]["id"]
    assert await store.recording_file(rec_id) is None  # still running: nothing to serve yet
    await store.recording_ended(NAME, T0 + timedelta(seconds=40))
    old = await store.recordings_started_before(T0 + timedelta(days=1))
    assert [r.id for r in old] == [rec_id]
    assert await store.recordings_started_before(T0) == []
    await store.recording_deleted(rec_id, T0 + timedelta(days=91))
    assert await store.recording_file(rec_id) is None
    assert await store.recording_file(rec_id + 1000) is None
    assert await store.recordings_started_before(T0 + timedelta(days=100)) == []
    record = await store.get_call("c1")
    assert record is not None and record["recordings"] == []


async def test_unknown_pause_reason_is_refused(store: CallStore) -> None:
    await _recorded(store)
    with pytest.raises(ValueError, match="reason"):
        await store.recording_paused(NAME, "because", None, T0)
