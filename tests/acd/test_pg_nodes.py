"""The cluster's node table on a real PostgreSQL: heartbeats, stale nodes, and a gone node claimed by
exactly one of several survivors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from acd.pg_nodes import NodeRegistry


@pytest.fixture
async def engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(pg_url, pool_size=8, pool_pre_ping=True)
    try:
        yield engine
    finally:
        await engine.dispose()


async def silent_for(engine: AsyncEngine, node: str, seconds: int) -> None:
    """Pretend ``node`` last beat ``seconds`` ago (the database's clock)."""
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE cluster_nodes SET refreshed_at = now() - make_interval(secs => :s) WHERE node = :n"),
            {"s": seconds, "n": node},
        )


async def test_a_node_silent_longer_than_the_limit_is_stale_to_the_others_only(engine: AsyncEngine) -> None:
    a, b = NodeRegistry(engine, "a", stale_after_s=20), NodeRegistry(engine, "b", stale_after_s=20)
    await asyncio.gather(a.create_table(), b.create_table())  # two nodes starting at once
    await a.beat(system_name="asta", sip="127.0.0.1:5070")
    await b.beat(system_name="astb", sip="127.0.0.1:5080")
    assert await a.stale_nodes() == []
    await silent_for(engine, "b", 10)
    assert await a.stale_nodes() == []  # not yet
    await silent_for(engine, "b", 30)
    [stale] = await a.stale_nodes()
    assert (stale.node, stale.system_name, stale.sip) == ("b", "astb", "127.0.0.1:5080")
    assert await b.stale_nodes() == []  # a node never judges itself


async def test_of_several_survivors_exactly_one_claims_a_gone_node_until_it_comes_back(
    engine: AsyncEngine,
) -> None:
    survivors = [NodeRegistry(engine, f"s{n}") for n in range(6)]
    gone = NodeRegistry(engine, "gone")
    await gone.create_table()
    await gone.beat(system_name="astg", sip=None)
    assert not any(await asyncio.gather(*(s.claim("gone") for s in survivors)))  # alive: nobody may
    await silent_for(engine, "gone", 60)
    claims = await asyncio.gather(*(s.claim("gone") for s in survivors))
    assert sum(claims) == 1
    assert not any(await asyncio.gather(*(s.claim("gone") for s in survivors)))  # once, not again
    assert await survivors[0].stale_nodes() == []  # claimed: no longer a candidate

    await gone.beat(system_name=None, sip=None)  # back: its name is kept, gone is cleared
    await silent_for(engine, "gone", 60)
    [stale] = await survivors[0].stale_nodes()
    assert stale.system_name == "astg"
    assert sum(await asyncio.gather(*(s.claim("gone") for s in survivors))) == 1  # gone again: once more
