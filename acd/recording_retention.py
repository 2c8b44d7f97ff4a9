"""Retention of conversation recordings: files older than ``IVR_RECORDING_RETENTION_DAYS`` are deleted
(the file, and ``deleted_at`` on its row), once at start and then daily; the log says how many and
from which days. ``0`` keeps recordings forever."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

DAY_S = 86400.0


class _Stored(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def started_at(self) -> datetime: ...


def cutoff(now: datetime, days: int) -> datetime | None:
    """Recordings started before this are deleted; None keeps everything (``days`` 0)."""
    return None if days <= 0 else now - timedelta(days=days)


def file_of(recordings_dir: Path, relative: str) -> Path | None:
    """The recording's file, only when it lies inside the recordings directory (never elsewhere)."""
    root = recordings_dir.resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path != root else None


@dataclass(frozen=True)
class Sweep:
    deleted: int
    days: tuple[str, ...]


async def sweep(store: Any, recordings_dir: Path, days: int, *, now: datetime | None = None) -> Sweep:
    """Delete the recordings older than ``days``; the store keeps the row with ``deleted_at``."""
    now = now or datetime.now(UTC)
    limit = cutoff(now, days)
    if limit is None:
        return Sweep(0, ())
    old: Sequence[_Stored] = await store.recordings_started_before(limit)
    when: set[str] = set()
    for rec in old:
        path = file_of(recordings_dir, rec.path)
        if path is not None:
            try:
                await asyncio.to_thread(path.unlink, missing_ok=True)
            except OSError as exc:
                log.error("recording %s not deleted: %s", path, exc)
                continue
            _remove_empty(path.parent, recordings_dir)
        await store.recording_deleted(rec.id, now)
        when.add(f"{rec.started_at.astimezone(UTC):%Y-%m-%d}")
    result = Sweep(len(old), tuple(sorted(when)))
    if result.deleted:
        log.info(
            "recordings retention (%d days): deleted %d recording(s) from %s",
            days,
            result.deleted,
            ", ".join(result.days),
        )
    else:
        log.info("recordings retention (%d days): nothing older to delete", days)
    return result


def _remove_empty(folder: Path, root: Path) -> None:
    if folder.resolve() == root.resolve():
        return
    with contextlib.suppress(OSError):
        folder.rmdir()  # only when empty: a day's folder goes with its last recording


async def run_retention(
    store: Any,
    recordings_dir: Path,
    days: int,
    *,
    every_s: float = DAY_S,
    sleep: Callable[[float], Any] = asyncio.sleep,
) -> None:
    """Sweep once now, then every ``every_s``; a failing sweep is logged and retried next time."""
    if days <= 0:
        log.info("recordings retention: kept forever (IVR_RECORDING_RETENTION_DAYS=0)")
        return
    while True:
        try:
            await sweep(store, recordings_dir, days)
        except Exception as exc:
            log.warning("recordings retention sweep failed (%s); retried in a day", exc)
        await sleep(every_s)
