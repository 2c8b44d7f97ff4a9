"""Retention: recordings older than the setting go (file and row marked), the log says which days."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from acd.recording_retention import cutoff, file_of, run_retention, sweep
from ivr.store import CallStore, default_db_url

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CallStore]:
    s = CallStore(default_db_url(tmp_path / "db"))
    await s.open()
    try:
        yield s
    finally:
        await s.close()


def test_cutoff_and_zero_keeps_forever() -> None:
    assert cutoff(NOW, 90) == NOW - timedelta(days=90)
    assert cutoff(NOW, 0) is None


def test_file_of_never_leaves_the_recordings_dir(tmp_path: Path) -> None:
    assert file_of(tmp_path, "2026-12-01/c1-1.wav") == tmp_path.resolve() / "2026-12-01" / "c1-1.wav"
    assert file_of(tmp_path, "../etc/passwd") is None
    assert file_of(tmp_path, "/etc/passwd") is None
    assert file_of(tmp_path, ".") is None


async def _recording(store: CallStore, root: Path, call_id: str, started: datetime) -> Path:
    name = f"{started:%Y-%m-%d}/{call_id}-1"
    await store.call_started(call_id, f"ch-{call_id}", "03", "", "100", "shop", started)
    await store.recording_started(call_id, name, f"{name}.wav", started)
    await store.recording_ended(name, started + timedelta(minutes=3))
    path = root / f"{name}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF")
    return path


async def test_sweep_deletes_only_what_is_older(
    store: CallStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = await _recording(store, tmp_path, "old", NOW - timedelta(days=91))
    older = await _recording(store, tmp_path, "older", NOW - timedelta(days=200))
    young = await _recording(store, tmp_path, "young", NOW - timedelta(days=89))
    with caplog.at_level(logging.INFO, logger="acd.recording_retention"):
        result = await sweep(store, tmp_path, 90, now=NOW)
    assert result.deleted == 2
    assert result.days == ("2026-05-15", "2026-09-01")
    assert not old.exists() and not older.exists() and young.exists()
    assert not old.parent.exists()  # the emptied day folder goes too
    assert "deleted 2 recording(s) from 2026-05-15, 2026-09-01" in caplog.text
    records = {c: await store.get_call(c) for c in ("old", "young")}
    assert records["old"] is not None and records["old"]["recordings"] == []
    assert records["young"] is not None and len(records["young"]["recordings"]) == 1
    assert (await sweep(store, tmp_path, 90, now=NOW)).deleted == 0
    assert (await sweep(store, tmp_path, 0, now=NOW + timedelta(days=999))).deleted == 0
    assert young.exists()


async def test_run_retention_sweeps_at_start_then_every_period(store: CallStore, tmp_path: Path) -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        await run_retention(store, tmp_path, 30, every_s=86400, sleep=sleep)
    assert sleeps == [86400, 86400]
    await run_retention(store, tmp_path, 0, sleep=sleep)  # kept forever: returns at once
    assert len(sleeps) == 2
