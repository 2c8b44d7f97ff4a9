"""Shared agent states on a real PostgreSQL: two adapters on two engines are two nodes of one cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from acd.pg_agent_states import AgentStateChange, PostgresAgentStates
from ivr.testing.postgres import PostgresCluster

Nodes = tuple[PostgresAgentStates, PostgresAgentStates]
T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
SETTLE_S = 10.0
"""Longest wait for a (re)connection: generous, it only bounds a failing test."""


def change(agent: str, state: str, at_s: float = 0.0, reason: str | None = None) -> AgentStateChange:
    return AgentStateChange(agent, state, T0 + timedelta(seconds=at_s), reason)


async def next_change(states: PostgresAgentStates, timeout_s: float) -> AgentStateChange:
    return await asyncio.wait_for(anext(aiter(states.changes())), timeout_s)


@pytest.fixture
async def nodes(pg_url: str) -> AsyncIterator[Nodes]:
    engines = [create_async_engine(pg_url, pool_pre_ping=True) for _ in range(2)]
    a = PostgresAgentStates(engines[0], "node-a", ping_interval_s=0.5)
    b = PostgresAgentStates(engines[1], "node-b", ping_interval_s=0.5, min_backoff_s=2.0)
    await asyncio.gather(a.create_tables(), b.create_tables())
    for n in (a, b):
        await n.start()
        await asyncio.wait_for(n.connected.wait(), SETTLE_S)
    try:
        yield a, b
    finally:
        for n in (a, b):
            await n.close()
        for engine in engines:
            await engine.dispose()


async def test_a_change_reaches_the_other_node_within_a_second_and_not_its_own(nodes: Nodes) -> None:
    a, b = nodes
    stored = await a.publish(change("2101", "paused", reason="lunch"))
    assert stored is not None and stored.node == "node-a" and stored.version == 1
    got = await next_change(b, 1.0)
    assert got == stored
    await b.publish(change("2101", "available", at_s=5))
    back = await next_change(a, 1.0)  # the first thing node a hears is node b's change, not its own
    assert (back.node, back.state, back.version) == ("node-b", "available", 2)


async def test_versions_count_each_agents_changes_and_an_older_change_is_not_stored(nodes: Nodes) -> None:
    a, b = nodes
    first = await a.publish(change("2101", "available", at_s=10))
    second = await a.publish(change("2101", "on_call", at_s=20))
    other = await a.publish(change("2102", "paused", at_s=15))
    assert (first and first.version, second and second.version, other and other.version) == (1, 2, 1)
    assert await b.publish(change("2101", "paused", at_s=15)) is None  # older than the stored change
    stored = {c.agent_id: (c.state, c.node, c.version) for c in await b.snapshot()}
    assert stored == {"2101": ("on_call", "node-a", 2), "2102": ("paused", "node-a", 1)}


async def test_a_change_made_while_a_node_was_not_listening_comes_from_the_re_read(
    nodes: Nodes, pg_cluster: PostgresCluster
) -> None:
    a, b = nodes
    await a.publish(change("2101", "available"))
    assert (await next_change(b, 1.0)).version == 1
    killed = pg_cluster.psql(
        f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        f" WHERE application_name = '{b.listener_name}'"
    )
    assert killed.strip() == "1"
    stored = await a.publish(change("2101", "paused", at_s=1, reason="break"))  # b waits 2 s to reconnect
    assert stored is not None
    got = await next_change(b, SETTLE_S)
    assert got == stored
    with pytest.raises(TimeoutError):  # the first change, delivered before, is not delivered again
        await next_change(b, 0.5)


async def test_after_a_postgresql_restart_the_listener_resumes_and_sees_the_outage_change(
    nodes: Nodes, pg_cluster: PostgresCluster
) -> None:
    a, b = nodes
    await asyncio.to_thread(pg_cluster.stop, remove=False)
    try:
        assert await a.publish(change("2101", "paused", at_s=1, reason="meeting")) is None  # kept
    finally:
        await asyncio.to_thread(pg_cluster.start)
    got = await next_change(b, SETTLE_S)  # written by node a once the database is back
    assert (got.agent_id, got.state, got.reason, got.node) == ("2101", "paused", "meeting", "node-a")
    await asyncio.wait_for(b.connected.wait(), SETTLE_S)
    await asyncio.wait_for(a.connected.wait(), SETTLE_S)
    stored = await a.publish(change("2101", "available", at_s=2))
    assert stored is not None and stored.version == got.version + 1
    assert await next_change(b, 1.0) == stored


async def test_a_malformed_notification_is_ignored(nodes: Nodes, pg_url: str) -> None:
    a, b = nodes
    engine = create_async_engine(pg_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT pg_notify('acd_agent_states', 'not json')"))
    finally:
        await engine.dispose()
    stored = await a.publish(change("2101", "available"))
    assert await next_change(b, 1.0) == stored


async def test_close_ends_the_iteration(nodes: Nodes) -> None:
    a, _ = nodes
    seen: list[AgentStateChange] = []

    async def consume() -> None:
        seen.extend([c async for c in a.changes()])

    task = asyncio.create_task(consume())
    await a.close()
    await asyncio.wait_for(task, SETTLE_S)
    assert seen == []
