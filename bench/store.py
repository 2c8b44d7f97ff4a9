"""The call store's cost per call: ``python -m bench.store`` writes N synthetic calls through the
``CallRecorder`` into a temporary SQLite file, once the pre-#12 way (every write runs at once as two
statements: create the call's row if missing, then the write) and once coalesced (a batch's writes
held back and sent as a few executemany statements; rows known to exist not created again).

Each call makes the bench flow's writes: started, answered, three nodes, one input, ended — the
calls interleaved as concurrent calls' writes are. Two recorder settings: batches of up to 200
writes (the recorder under load) and one write per transaction (``--batch 1``: a quiet system).
Printed per call: DBAPI statements (an executemany counts once: one trip to the driver) and CPU ms
(the whole process: event loop and aiosqlite's thread), and the ratio of the two ways.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

from ivr.store import CallRecorder, CallStore, Write, default_db_url

T0 = datetime(2026, 1, 1, 9, tzinfo=UTC)
WRITES_PER_CALL = 7


@dataclass(frozen=True)
class Result:
    coalesced: bool
    batch_size: int
    calls: int
    statements: int
    cpu_s: float

    @property
    def statements_per_call(self) -> float:
        return self.statements / self.calls

    @property
    def cpu_ms_per_call(self) -> float:
        return self.cpu_s * 1000 / self.calls


def call_writes(call_id: str, start_s: float) -> list[Write]:
    """One bench call's writes, in order."""

    def t(offset: float) -> datetime:
        return T0 + timedelta(seconds=start_s + offset)

    return [
        lambda s: s.call_started(call_id, f"ch-{call_id}", "0312345678", "bench", "7000", "bench", t(0)),
        lambda s: s.call_answered(call_id, t(0.1)),
        lambda s: s.node_entered(call_id, "welcome", t(0.2)),
        lambda s: s.node_entered(call_id, "menu", t(2)),
        lambda s: s.input_taken(call_id, "menu", "dtmf", "1", False, t(4)),
        lambda s: s.node_entered(call_id, "readback", t(4.1)),
        lambda s: s.call_ended(call_id, t(8), "completed", "16"),
    ]


def interleaved(calls: int, concurrent: int, seed: int = 7) -> list[Write]:
    """Every call's writes in order, ``concurrent`` calls at a time interleaved at random (as their
    events arrive); a call that ends makes room for the next."""
    rng = random.Random(seed)
    pending = [call_writes(f"c{i}", i * 0.01) for i in range(calls)]
    pending.reverse()
    active: list[list[Write]] = []
    out: list[Write] = []
    while pending or active:
        while pending and len(active) < concurrent:
            active.append(pending.pop())
        writes = active[rng.randrange(len(active))]
        out.append(writes.pop(0))
        if not writes:
            active.remove(writes)
    return out


class StatementCounter:
    """DBAPI executions on every engine while counting (``executemany`` counts once)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(Engine, "before_cursor_execute", self)


async def run_once(
    directory: Path, *, coalesced: bool, batch_size: int, calls: int, concurrent: int
) -> Result:
    store = CallStore(default_db_url(directory), coalesce_writes=coalesced)
    await store.open()
    recorder = CallRecorder(store, batch_size=batch_size)
    writes = interleaved(calls, concurrent)
    try:
        with StatementCounter() as counter:
            cpu = time.process_time()
            for write in writes:
                recorder.submit(write)
            if not await recorder.flush(600):
                raise RuntimeError("the recorder did not drain in 600 s")
            cpu = time.process_time() - cpu
        if recorder.dropped:
            raise RuntimeError(f"{recorder.dropped} writes dropped")
        record = await store.get_call(f"c{calls - 1}")
        if record is None or record["path"] != ["welcome", "menu", "readback"]:
            raise RuntimeError(f"the last call's record is wrong: {record}")
    finally:
        await recorder.close()
        await store.close()
    return Result(coalesced, batch_size, calls, counter.count, cpu)


async def compare(calls: int, concurrent: int, batch_sizes: Sequence[int]) -> list[tuple[Result, Result]]:
    """(before, after) per batch size, each in a fresh database."""
    pairs: list[tuple[Result, Result]] = []
    for batch_size in batch_sizes:
        results: dict[bool, Result] = {}
        for coalesced in (False, True):
            with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
                results[coalesced] = await run_once(
                    Path(tmp), coalesced=coalesced, batch_size=batch_size, calls=calls, concurrent=concurrent
                )
        pairs.append((results[False], results[True]))
    return pairs


def report(pairs: Sequence[tuple[Result, Result]]) -> list[str]:
    lines = [
        f"{'batch':>6} {'stmts/call before':>18} {'after':>7} {'ratio':>6}"
        f" {'CPU ms/call before':>19} {'after':>7} {'ratio':>6}"
    ]
    for before, after in pairs:
        lines.append(
            f"{before.batch_size:>6} {before.statements_per_call:>18.2f} {after.statements_per_call:>7.2f}"
            f" {after.statements / before.statements:>6.2f} {before.cpu_ms_per_call:>19.3f}"
            f" {after.cpu_ms_per_call:>7.3f} {after.cpu_s / before.cpu_s:>6.2f}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store", description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrent", type=int, default=300, help="calls whose writes interleave")
    parser.add_argument("--batch", type=int, action="append", help="recorder batch size (repeatable)")
    args = parser.parse_args(argv)
    batch_sizes = args.batch or [200, 1]
    print(f"call store: {args.calls} calls x {WRITES_PER_CALL} writes, {args.concurrent} interleaved")
    for line in report(asyncio.run(compare(args.calls, args.concurrent, batch_sizes))):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
