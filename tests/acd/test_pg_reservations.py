"""Reservations on a real PostgreSQL: two adapters on two engines are two nodes of one cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from acd.pg_reservations import PostgresReservations
from acd.reservation import AgentReservations
from ivr.testing.postgres import free_port

Nodes = tuple[PostgresReservations, PostgresReservations]


@pytest.fixture
async def nodes(pg_url: str) -> AsyncIterator[Nodes]:
    engines = [create_async_engine(pg_url, pool_size=8, pool_pre_ping=True) for _ in range(2)]
    a = PostgresReservations(engines[0], "node-a")
    b = PostgresReservations(engines[1], "node-b")
    await asyncio.gather(a.create_tables(), b.create_tables())  # two nodes starting at once
    try:
        yield a, b
    finally:
        for engine in engines:
            await engine.dispose()


async def age_holds(engine: AsyncEngine, seconds: int) -> None:
    """Pretend every hold was last refreshed ``seconds`` ago (the database's clock)."""
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE acd_agent_reservations SET refreshed_at = now() - make_interval(secs => :s)"),
            {"s": seconds},
        )


async def test_is_an_agent_reservations_port(nodes: Nodes) -> None:
    port: AgentReservations = nodes[0]
    assert await port.holder("2101") is None


async def test_two_nodes_racing_for_the_same_agent_exactly_one_wins_every_round(nodes: Nodes) -> None:
    a, b = nodes
    winners_by_node = {"node-a": 0, "node-b": 0}
    for round_ in range(40):
        agent = f"21{round_:02d}"
        tries = [(res, f"call-{n}-{round_}-o1") for n in range(4) for res in (a, b)]
        results = await asyncio.gather(*(res.try_reserve(agent, holder) for res, holder in tries))
        won = [(res, holder) for (res, holder), ok in zip(tries, results, strict=True) if ok]
        assert len(won) == 1, f"round {round_}: {len(won)} winners"
        winner_node, winner = won[0]
        winners_by_node[winner_node.node] += 1
        assert await a.holder(agent) == winner
        assert await b.holder(agent) == winner
    assert sum(winners_by_node.values()) == 40


async def test_the_holder_asking_again_still_holds_but_not_the_same_id_from_another_node(
    nodes: Nodes,
) -> None:
    a, b = nodes
    assert await a.try_reserve("2101", "c1-o1")
    assert await a.try_reserve("2101", "c1-o1")
    assert not await b.try_reserve("2101", "c1-o1")  # offer ids may repeat across nodes
    assert not await b.try_reserve("2101", "c2-o1")
    assert await b.holder("2101") == "c1-o1"


async def test_release_by_a_non_holder_does_nothing_and_the_holders_release_frees(nodes: Nodes) -> None:
    a, b = nodes
    assert await a.try_reserve("2101", "c1-o1")
    await a.release("2101", "c2-o1")  # another offer of this node
    await b.release("2101", "c1-o1")  # the same offer id on another node
    assert await b.holder("2101") == "c1-o1"
    assert not await b.try_reserve("2101", "c3-o1")
    await a.release("2101", "c1-o1")
    assert await a.holder("2101") is None
    assert await b.try_reserve("2101", "c3-o1")
    assert await a.holder("2101") == "c3-o1"


async def test_release_node_frees_only_that_nodes_holds_except_those_kept(nodes: Nodes) -> None:
    a, b = nodes
    for agent, holder in (("2101", "c1-o1"), ("2102", "c2-o1"), ("2103", "c3-o1")):
        assert await a.try_reserve(agent, holder)
    assert await b.try_reserve("2104", "c4-o1")
    assert await b.release_node("node-a", keep=["c2-o1"]) == 2
    assert await b.holder("2101") is None
    assert await b.holder("2102") == "c2-o1"  # a conversation the restarted node takes back
    assert await b.holder("2103") is None
    assert await b.holder("2104") == "c4-o1"
    assert await b.try_reserve("2101", "c5-o1")
    assert await a.release_node("node-a") == 1
    assert await a.holder("2101") == "c5-o1"


async def test_a_stale_hold_is_free_to_take_and_its_old_holder_cannot_release_the_new_one(
    nodes: Nodes,
) -> None:
    a, b = nodes
    assert await a.try_reserve("2101", "c1-o1")
    await age_holds(a.engine, int(a.stale_after_s) - 5)
    assert not await b.try_reserve("2101", "c2-o1")  # not stale yet
    await age_holds(a.engine, int(a.stale_after_s) + 5)
    assert await a.holder("2101") is None  # a dead node's hold counts as free
    assert await b.try_reserve("2101", "c2-o1")
    await a.release("2101", "c1-o1")
    assert await a.holder("2101") == "c2-o1"


async def test_keep_alive_keeps_a_live_nodes_holds_from_going_stale(nodes: Nodes) -> None:
    a, b = nodes
    assert await a.try_reserve("2101", "c1-o1")
    assert await b.try_reserve("2102", "c2-o1")
    await age_holds(a.engine, int(a.stale_after_s) + 5)
    assert await a.keep_alive() == 1
    assert not await b.try_reserve("2101", "c3-o1")
    assert await a.holder("2101") == "c1-o1"
    assert await a.try_reserve("2102", "c4-o1")  # node b refreshed nothing: its hold went stale


async def test_without_the_database_nothing_is_reserved_and_a_failed_release_is_retried(
    nodes: Nodes,
) -> None:
    a, b = nodes
    down = create_async_engine(f"postgresql+asyncpg://ivr@127.0.0.1:{free_port()}/none")
    try:
        cut_off = PostgresReservations(down, "node-a", op_timeout_s=2.0)
        assert not await cut_off.try_reserve("2101", "c1-o1")
        assert await a.try_reserve("2101", "c1-o1")
        await cut_off.release("2101", "c1-o1")  # fails: kept
        assert await b.holder("2101") == "c1-o1"
        cut_off.engine = a.engine  # the database is back
        assert await cut_off.keep_alive() == 0  # the release went through first
        assert await b.holder("2101") is None
    finally:
        await down.dispose()


async def test_keep_alive_interval_must_leave_room_before_holds_go_stale(nodes: Nodes) -> None:
    with pytest.raises(ValueError, match="keep-alive"):
        await nodes[0].run_keep_alive(interval_s=nodes[0].stale_after_s)
