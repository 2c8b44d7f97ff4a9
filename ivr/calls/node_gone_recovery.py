"""Closing the open records of a node that went away: the I/O around ``node_gone``'s decisions.

Wired as an ``AcdCluster.on_node_gone`` hook on every node; runs only on the one survivor that claimed
the gone node. Writes go through the write-behind recorder, and a record is only closed if it is still
open (``CallStore.close_lost_call``), so a record that node managed to close keeps its own ending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from ivr.calls.lifecycle import FlowSource
from ivr.calls.node_gone import gone_node_calls, gone_node_closure
from ivr.calls.orphans import Closure, hangup_outcome
from ivr.calls.recovery import OpenCallsSource
from ivr.flows.model import Flow
from ivr.store import CallRecorder, CallStore, Write

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class NodeGoneRecovery:
    def __init__(
        self,
        *,
        store: OpenCallsSource,
        recorder: CallRecorder,
        flows: FlowSource | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._store = store
        self._recorder = recorder
        self._flows = flows
        self._clock = clock

    async def close_calls(self, node: str, system_name: str | None, last_seen: datetime) -> int:
        """Close the gone ``node``'s open records (its Asterisk's system name); returns how many."""
        if not system_name:
            log.warning("node %s gone, but its Asterisk's name is not known: its records stay open", node)
            return 0
        calls = gone_node_calls(await self._store.open_calls(), system_name)
        noticed = self._clock()
        for call in calls:
            end = gone_node_closure(
                call,
                node=node,
                last_seen=last_seen,
                noticed_at=noticed,
                ended_by_flow=hangup_outcome(self._flow(call.flow), call.last_node),
            )
            log.info("call %s of gone node %s closed: %s, %s", call.id, node, end.outcome, end.cause)
            self._recorder.submit(_close(call.id, end))
        return len(calls)

    def _flow(self, name: str | None) -> Flow | None:
        if self._flows is None or name is None:
            return None
        try:
            return self._flows.get(name)
        except Exception:  # a flow removed since the call began
            return None


def _close(call_id: str, end: Closure) -> Write:
    async def write(store: CallStore) -> object:
        return await store.close_lost_call(call_id, end.ended_at, end.outcome, end.cause)

    return write
