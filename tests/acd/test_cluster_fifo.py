"""FIFO within priority across nodes, two ACDs on one PostgreSQL (fake ARI each): the operator frees up
on node A, where a newer caller waits, and is still offered first to the older caller on node B."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from acd.agents import AgentState
from tests.acd.test_cluster import OPERATOR, Node, until


@pytest.fixture
async def nodes(pg_url: str) -> AsyncIterator[tuple[Node, Node]]:
    a, b = Node("node-a", pg_url), Node("node-b", pg_url)
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        await a.close()
        await b.close()


async def shared(node: Node) -> None:
    """Wait until the node's calls in line are in PostgreSQL (shared in the background)."""
    await asyncio.sleep(0)
    await asyncio.wait_for(node.cluster.waiting.synced.wait(), 5)


async def test_the_older_caller_on_the_other_node_is_offered_before_the_newer_one_here(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    a.service.set_agent_state(OPERATOR, "available", None)
    await until(lambda: b.state() == AgentState.AVAILABLE)
    a.enter("call-0")  # the operator takes a call on node A …
    await until(lambda: len(a.rung()) == 1)
    [first] = a.rung()
    a.leg("StasisStart", first, args=["leg:agent:x"])
    await until(lambda: b.state() == AgentState.ON_CALL)

    b.enter("call-1")  # … meanwhile caller 1 waits on node B, then caller 2 on node A
    await shared(b)
    await asyncio.sleep(0.01)
    a.enter("call-2")
    await shared(a)
    await asyncio.sleep(0.1)
    assert a.rung() == [first] and b.rung() == []

    a.leg("ChannelDestroyed", first, cause=16)  # the operator is free on node A (no wrap-up) …
    await until(lambda: len(b.rung()) == 1)  # … and node B, holding the older caller, rings them
    [second] = b.rung()
    assert second.startswith("leg-call-1-o")
    assert a.rung() == [first]
    assert "failed:reserved elsewhere" in a.offers_ended()  # node A tried for caller 2 and was refused
    assert await b.cluster.reservations.holder(OPERATOR) == second.removeprefix("leg-")

    b.leg("StasisStart", second, args=["leg:agent:x"])
    await until(lambda: a.state() == AgentState.ON_CALL)
    b.leg("ChannelDestroyed", second, cause=16)
    await until(lambda: len(a.rung()) == 2)  # then caller 2, on node A
    assert a.rung()[1].startswith("leg-call-2-o")
