"""One ACD across nodes: this node's ACD joined to the others through PostgreSQL.

When the store is PostgreSQL, ``AcdCluster`` gives the ACD (``AcdRuntime``) two things:

- **reservations** (``PostgresReservations``): an agent is held by at most one offer cluster-wide. At
  start this node frees the holds its previous process left (``open``); a conversation it takes back is
  reserved again (``AcdRuntime._take_back``); a keep-alive task keeps its live holds from going stale.
- **agent states** (``PostgresAgentStates``): every state change the ACD makes here is published (in
  order, by a background task: the ACD's task never waits for the database), and every change another
  node publishes is handed to the ACD's one ordered task (``AcdService.remote_agent_change``), where the
  pure ``Distributor.remote_agent_change`` decides what it means here.
- **the nodes** (``NodeRegistry``): this node beats; a node that stopped beating and whose Asterisk no
  longer answers SIP is *gone* (``acd.node_gone``): one survivor claims it (exactly once), frees the
  agents it held (its reservations, its agents' busy shared states) and calls ``on_node_gone`` (the
  wiring closes that node's open call records there).
- **the shared line** (``PostgresWaitingCalls``): this node's calls in line, shared after every change
  (by a background task too), so an agent is reserved for a call only when no other node has a call
  ahead of it that the agent could take (FIFO within priority across nodes: ``acd.shared_line``).

With SQLite (one node) there is no ``AcdCluster``: in-memory reservations, no shared states.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from acd.agent_book import RemoteAgentState
from acd.agents import AgentState, AgentStatus
from acd.events import AcdCommand, AgentChanged
from acd.node_gone import agents_to_free, is_gone, sip_address
from acd.pg_agent_states import PUBLISH_ERRORS, AgentStateChange, PostgresAgentStates
from acd.pg_nodes import BEAT_S, NodeRecord, NodeRegistry
from acd.pg_reservations import DB_ERRORS, KEEP_ALIVE_S, PostgresReservations
from acd.pg_tables import create_acd_tables
from acd.pg_waiting_calls import PostgresWaitingCalls
from acd.service import AcdService
from acd.shared_line import shared_calls
from ivr.cluster.sip_ping import options_request, status_code

NodeIdentity = Callable[[], tuple[str | None, str | None]]
"""This node's Asterisk as other nodes need it: (system name, ``HOST:PORT`` of its SIP)."""
NodeGoneHook = Callable[[NodeRecord], Awaitable[object]]

log = logging.getLogger(__name__)


def is_postgres(db_url: str) -> bool:
    return make_url(db_url).get_backend_name() == "postgresql"


def remote_state(change: AgentStateChange) -> RemoteAgentState | None:
    """A published change as the distributor takes it; None for a state this version does not know."""
    try:
        state = AgentState(change.state)
    except ValueError:
        log.warning(
            "agent %s: unknown state %r from node %s ignored", change.agent_id, change.state, change.node
        )
        return None
    return RemoteAgentState(
        change.agent_id, state, change.since, change.reason, change.current_call, change.node
    )


def published(status: AgentStatus) -> AgentStateChange:
    return AgentStateChange(status.id, str(status.state), status.since, status.reason, status.current_call)


class AcdCluster:
    """``for_db_url(url, node)`` (None unless PostgreSQL) → ``await open()`` → ``await attach(service)``
    → ``await close()``."""

    def __init__(
        self,
        engine: AsyncEngine,
        node: str,
        *,
        reservations: PostgresReservations | None = None,
        states: PostgresAgentStates | None = None,
        waiting: PostgresWaitingCalls | None = None,
        keep_alive_s: float = KEEP_ALIVE_S,
        nodes: NodeRegistry | None = None,
        beat_s: float = BEAT_S,
    ) -> None:
        self.engine = engine
        self.node = node
        self.reservations = reservations or PostgresReservations(engine, node)
        self.states = states or PostgresAgentStates(engine, node)
        self.waiting = waiting or PostgresWaitingCalls(engine, node)
        self.keep_alive_s = keep_alive_s
        self.nodes = nodes or NodeRegistry(engine, node)
        self.beat_s = beat_s
        self.identity: NodeIdentity = lambda: (None, None)
        """Set by the wiring before ``attach``: what this node's beats say about its Asterisk."""
        self.on_node_gone: list[NodeGoneHook] = []
        self._restarting: set[str] = set()
        """Called once per gone node, on the one survivor that claimed it, after its agents are freed."""
        self.foreign: set[str] = set()
        """Agents whose latest shared state another node set (found at ``open``)."""
        self._own: dict[str, AgentStateChange] = {}
        self._view: dict[str, tuple[str, str | None, str | None]] = {}
        """Each agent's state as the cluster last heard it (published here or received)."""
        self._outbox: asyncio.Queue[AgentStatus] = asyncio.Queue()
        self._tasks: list[asyncio.Task[Any]] = []

    @classmethod
    def for_db_url(cls, db_url: str, node: str) -> AcdCluster | None:
        """The cluster side of a PostgreSQL store (its own small connection pool); None for SQLite."""
        if not is_postgres(db_url):
            return None
        return cls(create_async_engine(make_url(db_url), pool_pre_ping=True, pool_size=3), node)

    async def open(self) -> list[RemoteAgentState]:
        """Create the ACD's tables, free this node's holds left by its previous process (their offers
        died with it), and read the agents' shared states: returns those other nodes set."""
        await create_acd_tables(self.engine)
        await self.nodes.create_table()
        try:
            await self.reservations.release_node(self.node)
        except DB_ERRORS as exc:
            log.warning("node %s: reservations of the previous process not freed: %s", self.node, exc)
        try:
            await self.waiting.clear_node()
        except DB_ERRORS as exc:
            log.warning("node %s: calls in line of the previous process not cleared: %s", self.node, exc)
        try:
            snapshot = await self.states.snapshot()
        except PUBLISH_ERRORS as exc:
            log.warning("node %s: agents' shared states not read: %s", self.node, exc)
            snapshot = []
        self._own = {c.agent_id: c for c in snapshot if c.node == self.node}
        self._view = {c.agent_id: (c.state, c.reason, c.current_call) for c in snapshot}
        foreign = [r for c in snapshot if c.node != self.node and (r := remote_state(c)) is not None]
        self.foreign = {r.agent_id for r in foreign}
        return foreign

    async def attach(self, service: AcdService) -> None:
        """Share ``service``'s agent states and take the other nodes' (``open`` first)."""
        service.command_hooks.append(self._on_command)
        service.changed.append(lambda: self._share_line(service))
        self._share_line(service)
        for status in service.distributor.agents():  # e.g. "reserved" when it died: available now
            own = self._own.get(status.id)
            if own is not None and own.state != str(status.state):
                self._share(status)
        await self.states.start()
        loop = asyncio.get_running_loop()
        self._tasks += [
            loop.create_task(self._take_changes(service), name="acd-cluster-changes"),
            loop.create_task(self._publish(), name="acd-cluster-publish"),
            loop.create_task(self.reservations.run_keep_alive(self.keep_alive_s), name="acd-keep-alive"),
            loop.create_task(self.waiting.run(), name="acd-cluster-line"),
            loop.create_task(self._watch_nodes(service), name="acd-cluster-nodes"),
        ]

    def _share_line(self, service: AcdService) -> None:
        """After each item the ACD's task took: this node's calls in line, for the cluster's line."""
        self.waiting.share(shared_calls(service.distributor.shared_line(), self.node))

    async def _on_command(self, command: AcdCommand) -> None:
        if isinstance(command, AgentChanged) and command.status.state != AgentState.RESERVED:
            self._share(command.status)

    def _share(self, status: AgentStatus) -> None:
        """Publish a change the cluster has not heard. Never "reserved": whether this node's offer holds
        the agent is known only once PostgreSQL has reserved it (another node trying meanwhile is told
        "reserved elsewhere"), and a node that lost that race would otherwise publish "reserved", then
        "available" again, over the winner's state. Its return to the state the cluster knows is not
        published either."""
        key = (str(status.state), status.reason, status.current_call)
        if self._view.get(status.id) == key:
            return
        self._view[status.id] = key
        self._outbox.put_nowait(status)

    async def _publish(self) -> None:
        while True:
            status = await self._outbox.get()
            try:
                await self.states.publish(published(status))
            except Exception:  # publish keeps what the database did not take; anything else is a bug
                log.exception("node %s: agent %s state not shared", self.node, status.id)
            finally:
                self._outbox.task_done()

    async def _take_changes(self, service: AcdService) -> None:
        async for change in self.states.changes():
            remote = remote_state(change)
            self._view[change.agent_id] = (change.state, change.reason, change.current_call)
            if remote is not None:
                service.remote_agent_change(remote)

    async def _watch_nodes(self, service: AcdService) -> None:
        """Beat, and look for gone nodes, every ``beat_s`` until cancelled; outages are logged."""
        while True:
            try:
                system_name, sip = self.identity()
                await self.nodes.beat(system_name=system_name, sip=sip)
                for stale in await self.nodes.stale_nodes():
                    await self._judge(stale, service)
            except DB_ERRORS as exc:
                log.warning("node %s: cluster heartbeat not written: %s", self.node, exc)
            except Exception:
                log.exception("node %s: cluster node watch failed; retried", self.node)
            await asyncio.sleep(self.beat_s)

    async def _judge(self, stale: NodeRecord, service: AcdService) -> None:
        address = sip_address(stale.sip)
        answers = await asyncio.to_thread(asterisk_answers, *address) if address is not None else None
        if not is_gone(asterisk_answers=answers):
            if stale.node not in self._restarting:  # said once per silence, not every beat
                self._restarting.add(stale.node)
                log.info(
                    "node %s silent since %s, its Asterisk still answers: not gone",
                    stale.node,
                    stale.refreshed_at,
                )
            return
        self._restarting.discard(stale.node)
        if not await self.nodes.claim(stale.node):
            return  # another survivor handles it
        log.warning(
            "node %s gone (silent since %s): freeing its agents, closing its calls",
            stale.node,
            stale.refreshed_at,
        )
        await self.free_node(stale.node, service)
        for hook in self.on_node_gone:
            try:
                await hook(stale)
            except Exception:
                log.exception("node %s gone: a hook failed", stale.node)

    async def free_node(self, gone: str, service: AcdService) -> list[str]:
        """Free what ``gone`` held: its reservations, and its agents' busy shared states (available again,
        here and on every node). Returns the agents made available."""
        await self.reservations.release_node(gone)
        freed = agents_to_free(await self.states.snapshot(), gone)
        now = datetime.now(UTC)
        for agent_id in freed:
            change = AgentStateChange(agent_id, str(AgentState.AVAILABLE), now)
            self._view[agent_id] = (change.state, None, None)
            await self.states.publish(change)
            service.remote_agent_change(RemoteAgentState(agent_id, AgentState.AVAILABLE, now, node=gone))
        if freed:
            log.info("node %s gone: agent(s) %s available again", gone, ", ".join(freed))
        return freed

    async def close(self, drain_s: float = 2.0) -> None:
        """Publish what is still queued (at most ``drain_s``), then stop."""
        if self._tasks:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.join(), drain_s)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.waiting.close()
        await self.states.close()
        await self.engine.dispose()


def asterisk_answers(host: str, port: int, *, timeout_s: float = 2.0, tries: int = 2) -> bool:
    """Whether a SIP server at ``host:port`` sends any final response to an OPTIONS (blocking). Any
    status counts, not only 200: an Asterisk that does not know this node's address (401, 403) is still
    up, with its calls, and its records are not ours to close."""
    for _ in range(tries):
        call_id = secrets.token_hex(12) + "@ivr-node-watch"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout_s)
            try:
                sock.connect((host, port))
                local_host, local_port = sock.getsockname()[:2]
                sock.send(
                    options_request(host, port, local_host=local_host, local_port=local_port, call_id=call_id)
                )
                while True:
                    code = status_code(sock.recv(65535), call_id)
                    if code is not None and code >= 200:
                        return True
            except OSError:  # timeout, or ICMP port unreachable surfacing as ECONNREFUSED
                continue
    return False
