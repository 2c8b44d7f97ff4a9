from __future__ import annotations

from collections import Counter

from bench.store import WRITES_PER_CALL, compare, interleaved, report


def test_interleaving_keeps_each_calls_writes_and_mixes_calls() -> None:
    writes = interleaved(calls=20, concurrent=5, seed=3)
    assert len(writes) == 20 * WRITES_PER_CALL
    assert len(Counter(map(id, writes))) == len(writes)  # every write once


async def test_coalesced_writes_take_fewer_statements_per_call() -> None:
    (batched_before, batched_after), (single_before, single_after) = await compare(40, 10, [200, 1])
    assert batched_before.statements_per_call == 2 * WRITES_PER_CALL  # create + write, each write
    assert batched_after.statements < batched_before.statements / 5
    assert single_after.statements < single_before.statements  # known rows skip their create
    lines = report([(batched_before, batched_after)])
    assert len(lines) == 2 and lines[1].split()[0] == "200"
