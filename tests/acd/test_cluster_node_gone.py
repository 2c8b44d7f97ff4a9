"""A gone node seen by a survivor's AcdCluster: its agent's hold and busy shared state are freed, the
survivor offers that agent again, and the gone-node hook runs once, on one survivor only."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from acd.agents import AgentState
from acd.cluster import asterisk_answers
from acd.pg_nodes import NodeRecord
from tests.acd.test_cluster import OPERATOR, Node, until


async def make_gone(node: Node) -> None:
    """The node dies: its tasks stop without a word, its last beat long ago, its Asterisk unknown."""
    for task in node.cluster._tasks:
        task.cancel()
    await asyncio.gather(*node.cluster._tasks, return_exceptions=True)
    node.cluster._tasks.clear()
    async with node.cluster.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE cluster_nodes SET refreshed_at = now() - interval '1 hour', sip = NULL"
                " WHERE node = :n"
            ),
            {"n": node.name},
        )


@pytest.fixture
async def three(pg_url: str) -> AsyncIterator[tuple[Node, Node, Node, list[tuple[str, NodeRecord]]]]:
    nodes = [Node(name, pg_url) for name in ("node-a", "node-b", "node-c")]
    gone: list[tuple[str, NodeRecord]] = []
    for node in nodes:
        node.cluster.beat_s = 0.05

        def identity(n: Node = node) -> tuple[str | None, str | None]:
            return f"ast-{n.name}", "127.0.0.1:9"  # nothing answers there

        node.cluster.identity = identity

        async def hook(record: NodeRecord, n: Node = node) -> Any:
            gone.append((n.name, record))

        node.cluster.on_node_gone.append(hook)
        await node.start()
    try:
        yield nodes[0], nodes[1], nodes[2], gone
    finally:
        for node in nodes:
            await node.close()


async def test_the_agent_a_gone_node_held_in_a_call_is_offered_again_by_a_survivor(
    three: tuple[Node, Node, Node, list[tuple[str, NodeRecord]]],
) -> None:
    a, b, c, gone = three
    a.service.set_agent_state(OPERATOR, "available", None)
    await until(lambda: b.state() == AgentState.AVAILABLE and c.state() == AgentState.AVAILABLE)
    b.enter("call-b")
    await until(lambda: b.rung())
    [leg] = b.rung()
    b.leg("StasisStart", leg, args=["leg:agent:x"])  # the operator answers on node B…
    await until(lambda: a.state() == AgentState.ON_CALL and c.state() == AgentState.ON_CALL)
    a.enter("call-a")  # …while a caller waits on node A
    await asyncio.sleep(0.3)
    assert a.rung() == []

    await make_gone(b)  # node B dies mid-conversation

    await until(lambda: a.rung(), within_s=10)  # freed: A offers the operator its waiting caller
    assert await a.cluster.reservations.holder(OPERATOR) == a.rung()[0].removeprefix("leg-")
    await until(lambda: len(gone) == 1)
    await asyncio.sleep(0.5)  # the other survivor had the same chances
    [(claimer, record)] = gone
    assert claimer in ("node-a", "node-c")
    assert (record.node, record.system_name) == ("node-b", "ast-node-b")


def _sip_server(status: str) -> tuple[socket.socket, threading.Thread]:
    """A UDP SIP server that answers one request with ``status`` (e.g. "401 Unauthorized")."""
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))

    def answer() -> None:
        data, peer = server.recvfrom(65535)
        call_id = next(line for line in data.decode().split("\r\n") if line.startswith("Call-ID:"))
        server.sendto(f"SIP/2.0 {status}\r\n{call_id}\r\nContent-Length: 0\r\n\r\n".encode(), peer)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return server, thread


@pytest.mark.parametrize("status", ["200 OK", "401 Unauthorized", "403 Forbidden"])
def test_an_asterisk_that_answers_anything_is_up(status: str) -> None:
    server, thread = _sip_server(status)
    with server:
        assert asterisk_answers("127.0.0.1", server.getsockname()[1], timeout_s=2, tries=1)
        thread.join(2)


def test_silence_is_not_an_answer() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as quiet:
        quiet.bind(("127.0.0.1", 0))  # takes the request, never answers
        assert not asterisk_answers("127.0.0.1", quiet.getsockname()[1], timeout_s=0.2, tries=2)
