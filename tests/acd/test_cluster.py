"""One ACD across nodes: two ACDs (two nodes) sharing one PostgreSQL database, each with its own fake
ARI — never the same operator rung by both; an operator freed on one node is offered by the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from acd.agents import AgentState
from acd.cluster import AcdCluster
from acd.pg_agent_states import AgentStateChange, PostgresAgentStates
from acd.pg_reservations import PostgresReservations
from acd.pg_tables import agent_states
from acd.runtime import AcdFiles, AcdRuntime
from acd.service import AcdService, AcdSettings
from ivr.calls.legs import LegRegistry
from ivr.calls.ports import QueueRequest
from ivr.flows import events as fe
from tests.acd.builders import agent, config, queue
from tests.calls.fake_ari import FakeAri, chan_json, event
from tests.calls.harness import ImmediateRecorder, RecordingStore

OPERATOR = "2101"


class Node:
    def __init__(self, name: str, pg_url: str) -> None:
        self.name = name
        self.ari = FakeAri()
        self.store = RecordingStore()
        self.posts: list[fe.Event] = []
        cluster = AcdCluster.for_db_url(pg_url, name)
        assert cluster is not None
        self.cluster = cluster
        self.service = AcdService(
            config=config(
                [agent(OPERATOR, {"orders": 3})], [queue("orders", ring_timeout_s=15.0, wrapup_s=0)]
            ),
            ari=self.ari,
            legs=LegRegistry(),
            submit=ImmediateRecorder(self.store).submit,
            settings=AcdSettings(),
            reservations=cluster.reservations,
        )

    async def start(self) -> None:
        for remote in await self.cluster.open():
            self.service.remote_agent_change(remote)
        self.service.start()
        await self.cluster.attach(self.service)
        await asyncio.wait_for(self.cluster.states.connected.wait(), 5)

    async def close(self) -> None:
        await self.service.close()
        await self.cluster.close()

    def enter(self, call_id: str) -> None:
        request = QueueRequest(
            call_id=call_id,
            channel_id=f"chan-{call_id}",
            queue="orders",
            priority=0,
            lang="ja",
            entered_at=datetime.now(UTC),
            timeout_s=300,
            caller_number="0312345678",
            caller_name="Caller",
        )
        self.service.enter(request, self.posts.append)

    def rung(self) -> list[str]:
        return [k["channel_id"] for _, k in self.ari.calls_to("channels.originate")]

    def offers_ended(self) -> list[str]:
        return [a[3] for a, _ in self.store.named("offer_ended")]

    def state(self) -> AgentState:
        return self.service.distributor.agent(OPERATOR).state

    def leg(self, kind: str, leg_id: str, **body: Any) -> None:
        self.service.on_leg_event(event(kind, channel=chan_json(leg_id), **body))


async def shared_state(node: Node) -> tuple[str, str]:
    async with node.cluster.engine.connect() as conn:
        row = (await conn.execute(select(agent_states).where(agent_states.c.agent_id == OPERATOR))).one()
    return row.state, row.node


async def until(predicate: Callable[[], object], within_s: float = 5.0) -> None:
    async with asyncio.timeout(within_s):
        while not predicate():  # noqa: ASYNC110 - polling plain objects
            await asyncio.sleep(0.005)


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


async def test_two_nodes_never_ring_the_same_operator_and_the_second_caller_is_served_after(
    nodes: tuple[Node, Node],
) -> None:
    a, b = nodes
    a.service.set_agent_state(OPERATOR, "available", None)  # logged in through node A's API
    await until(lambda: b.state() == AgentState.AVAILABLE)  # node B learns it from PostgreSQL

    a.enter("call-a")  # both nodes route the same free operator at once
    b.enter("call-b")
    await until(
        lambda: (
            len(a.rung() + b.rung()) == 1
            and "failed:reserved elsewhere" in a.offers_ended() + b.offers_ended()
        )
    )
    winner, loser = (a, b) if a.rung() else (b, a)
    [leg] = winner.rung()
    assert await winner.cluster.reservations.holder(OPERATOR) == leg.removeprefix("leg-")
    assert loser.offers_ended() == ["failed:reserved elsewhere"] and winner.offers_ended() == []
    await asyncio.sleep(0.2)
    assert await shared_state(a) == ("available", "node-a")  # neither "reserved" nor the loser's return

    winner.leg("StasisStart", leg, args=["leg:agent:x"])  # the operator answers
    await until(lambda: loser.state() == AgentState.ON_CALL)  # shared: on a call at the winner
    assert await shared_state(a) == ("on_call", winner.name)
    await asyncio.sleep(0.3)
    assert loser.rung() == []  # never while the operator talks on the other node

    winner.leg("ChannelDestroyed", leg, cause=16)  # the conversation ends; no wrap-up
    await until(lambda: loser.rung())
    [second] = loser.rung()
    assert second.startswith(f"leg-call-{loser.name[-1]}-o")
    assert await loser.cluster.reservations.holder(OPERATOR) == second.removeprefix("leg-")
    assert winner.rung() == [leg]


async def test_a_restarted_node_frees_its_old_holds_and_takes_another_nodes_agent_state_as_it_is(
    pg_url: str, tmp_path: Any
) -> None:
    """node-a died holding 2102 for an offer; node-b has 2101 on a call. node-a starting again frees its
    own hold, sees 2101 on a call at node-b (not settled as its own), and never offers 2101."""
    cluster = AcdCluster.for_db_url(pg_url, "node-a")
    assert cluster is not None
    engine = cluster.engine
    other_states = PostgresAgentStates(engine, "node-b")
    await other_states.create_tables()
    await PostgresReservations(engine, "node-a").try_reserve("2102", "old-call-o1")
    await PostgresReservations(engine, "node-b").try_reserve("2101", "b-call-o1")
    await other_states.publish(AgentStateChange("2101", "on_call", datetime.now(UTC), None, "b-call"))
    store_rows = [
        SimpleNamespace(agent="2101", state="on_call", at=datetime.now(UTC), reason=None, call_id="b-call")
    ]

    class Store:
        async def latest_agent_states(self) -> list[Any]:
            return store_rows

    runtime = AcdRuntime(
        files=AcdFiles(None, None),
        ari=FakeAri(),  # type: ignore[arg-type]
        legs=LegRegistry(),
        submit=ImmediateRecorder(RecordingStore()).submit,
        settings=AcdSettings(),
        cluster=cluster,
    )
    try:
        service = await runtime.start(Store())
        assert await cluster.reservations.holder("2102") is None  # its previous process's hold
        assert await cluster.reservations.holder("2101") == "b-call-o1"  # another node's: kept
        await until(lambda: service.distributor.agent("2101").state == AgentState.ON_CALL)
        await runtime.reconcile(set())
        await asyncio.sleep(0.2)
        assert service.distributor.agent("2101").state == AgentState.ON_CALL  # not freed as ours
        assert service.distributor.agent("2101").current_call == "b-call"
    finally:
        await runtime.close()
        await other_states.close()
