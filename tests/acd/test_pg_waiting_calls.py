"""FIFO within priority across nodes on a real PostgreSQL: each node shares its calls in line
(``PostgresWaitingCalls``) and a reservation with a claim is refused while another node has a call
ahead that the agent could take (``PostgresReservations.try_reserve``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from acd.pg_reservations import PostgresReservations
from acd.pg_tables import waiting_calls
from acd.pg_waiting_calls import PostgresWaitingCalls
from acd.router import WaitingCall
from acd.shared_line import Claim, SharedCall
from tests.acd.builders import agent, queue

QUEUES = MappingProxyType({"orders": queue("orders"), "returns": queue("returns")})
ANNA = agent("2101", {"orders": 3, "returns": 3})
BOB = agent("2102", {"orders": 3})
T0 = datetime.now(UTC) - timedelta(seconds=60)


@dataclass
class Node:
    name: str
    engine: AsyncEngine
    holds: PostgresReservations
    line: PostgresWaitingCalls

    async def share(self, *calls: SharedCall) -> None:
        self.line.share({c.call_id: c for c in calls})
        await self.line.sync()

    async def reserve(self, who: str, call: WaitingCall) -> bool:
        agent_ = next(a for a in (ANNA, BOB) if a.id == who)
        return await self.holds.try_reserve(who, f"{call.call_id}-o1", Claim(call, agent_, QUEUES))


def call(call_id: str, t: float, queue_: str = "orders", priority: int = 0) -> WaitingCall:
    return WaitingCall(call_id, queue_, priority, T0 + timedelta(seconds=t), "ja")


def shared(node: Node, c: WaitingCall, excluded: frozenset[str] = frozenset()) -> SharedCall:
    return SharedCall(c.call_id, node.name, c.queue, c.priority, c.entered_at, c.lang, excluded=excluded)


@pytest.fixture
async def nodes(pg_url: str) -> AsyncIterator[tuple[Node, Node]]:
    engines = [create_async_engine(pg_url, pool_size=8, pool_pre_ping=True) for _ in range(2)]
    a, b = (
        Node(name, e, PostgresReservations(e, name), PostgresWaitingCalls(e, name))
        for name, e in zip(("node-a", "node-b"), engines, strict=True)
    )
    await asyncio.gather(a.line.create_tables(), b.line.create_tables())
    try:
        yield a, b
    finally:
        for engine in engines:
            await engine.dispose()


async def rows(engine: AsyncEngine) -> dict[str, tuple[str, int, list[str]]]:
    async with engine.connect() as conn:
        found = (await conn.execute(select(waiting_calls))).mappings().all()
    return {r["call_id"]: (r["node"], r["priority"], list(r["excluded"])) for r in found}


async def test_a_node_writes_its_line_as_it_changes_and_clears_it_when_it_starts_again(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    await a.share(shared(a, call("a1", 1)), shared(a, call("a2", 2)))
    await b.share(shared(b, call("b1", 3)))
    assert await rows(a.engine) == {"a1": ("node-a", 0, []), "a2": ("node-a", 0, []), "b1": ("node-b", 0, [])}
    await a.share(shared(a, call("a2", 2, priority=4), excluded=frozenset({"2101"})))
    assert await rows(a.engine) == {"a2": ("node-a", 4, ["2101"]), "b1": ("node-b", 0, [])}
    assert await PostgresWaitingCalls(a.engine, "node-a").clear_node() == 1  # a's next process
    assert await rows(a.engine) == {"b1": ("node-b", 0, [])}


async def test_the_background_task_shares_each_change_and_keeps_the_rows_alive(
    nodes: tuple[Node, Node],
) -> None:
    a, _ = nodes
    line = PostgresWaitingCalls(a.engine, "node-a", keep_alive_s=0.2)
    task = asyncio.create_task(line.run())
    try:
        line.share({"a1": shared(a, call("a1", 1))})
        await asyncio.wait_for(line.synced.wait(), 5)
        assert set(await rows(a.engine)) == {"a1"}
        async with a.engine.begin() as conn:
            await conn.execute(text("UPDATE acd_waiting_calls SET refreshed_at = now() - interval '1 hour'"))
        await asyncio.sleep(0.6)
        async with a.engine.connect() as conn:
            age = (
                await conn.execute(text("SELECT now() - refreshed_at FROM acd_waiting_calls"))
            ).scalar_one()
        assert age < timedelta(seconds=5)
        line.share({})
        await asyncio.wait_for(line.synced.wait(), 5)
        assert await rows(a.engine) == {}
    finally:
        task.cancel()


async def test_an_agent_is_refused_for_a_newer_call_while_another_node_has_an_older_one(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    older, newer = call("b-old", 10), call("a-new", 20)
    await b.share(shared(b, older))
    await a.share(shared(a, newer))
    assert not await a.reserve("2101", newer)
    assert await a.holds.holder("2101") is None
    assert await b.reserve("2101", older)  # the node with the older caller gets the agent


async def test_two_nodes_racing_for_one_agent_the_older_caller_always_wins(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    for round_ in range(30):
        older_on_a = round_ % 2 == 0
        first, second = call(f"x{round_}", 10), call(f"y{round_}", 11)
        mine_a, mine_b = (first, second) if older_on_a else (second, first)
        await a.share(shared(a, mine_a))
        await b.share(shared(b, mine_b))
        won = await asyncio.gather(a.reserve("2101", mine_a), b.reserve("2101", mine_b))
        assert list(won) == [older_on_a, not older_on_a], round_
        holder = await a.holds.holder("2101")
        assert holder == f"{first.call_id}-o1"
        await (a if older_on_a else b).holds.release("2101", holder)


async def test_only_calls_the_agent_could_take_and_not_being_offered_block(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    newer = call("a-new", 20)
    await b.share(shared(b, call("b-ret", 5, "returns")))  # BOB has no "returns" skill
    assert await a.reserve("2102", newer)
    await a.holds.release("2102", "a-new-o1")
    assert not await a.reserve("2101", newer)  # ANNA has it
    await b.share(shared(b, call("b-ret", 5, "returns"), excluded=frozenset({"2101"})))
    assert await a.reserve("2101", newer)  # node B will not offer it to ANNA now
    await a.holds.release("2101", "a-new-o1")
    old = call("b-old", 1)
    await b.share(shared(b, old))
    assert await b.holds.try_reserve("2102", "b-old-o1")  # node B is offering it to BOB …
    assert await a.reserve("2101", newer)  # … so it does not hold ANNA back


async def test_a_higher_priority_call_elsewhere_blocks_even_if_it_came_later(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    mine = call("a-1", 0)
    await b.share(shared(b, call("b-vip", 30, priority=2)))
    assert not await a.reserve("2101", mine)
    await b.share(shared(b, call("b-low", 0, priority=-1)))
    assert await a.reserve("2101", mine)


async def test_a_silent_nodes_line_stops_blocking(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    newer = call("a-new", 20)
    await b.share(shared(b, call("b-old", 10)))
    assert not await a.reserve("2101", newer)
    async with b.engine.begin() as conn:
        await conn.execute(text("UPDATE acd_waiting_calls SET refreshed_at = now() - interval '21 seconds'"))
    assert await a.reserve("2101", newer)


async def test_without_a_claim_nothing_is_checked(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    await b.share(shared(b, call("b-old", 10)))
    assert await a.holds.try_reserve("2101", "a-new-o1")
