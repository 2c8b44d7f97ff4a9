"""After every (re)connection to Asterisk: no call record lost, none left open for good.

Two resync hooks of the ``CallManager`` (``before_adopt`` and ``on_resync``):

- ``before_adopt`` reads ``GET /asterisk/info``: Asterisk's system name (the prefix of its channel ids)
  and start time. A start time that changed since the last connection means Asterisk restarted: calls
  in memory whose channel vanished end with the cause ``Asterisk restarted`` (``gone_cause``).
- ``on_resync`` starts, in the background (the event stream must not wait for the database):
  1. the import of calls that took the dialplan fallback while no controller ran (new rows of
     ``Master.csv``; a record each, keyed by the channel's uniqueid, so never twice);
  2. the closing of records left open by a crash whose channel is gone (``orphans.py`` decides the
     outcome, cause and end time; the CDR gives the end time when it has the row), and the release of
     an operator the ACD restored as busy with such a call.

Writes go through the write-behind recorder, in order after everything a call in memory wrote, and a
record is only closed if it is still open: a call that ended normally meanwhile keeps its own ending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from ivr.calls.cdr import FallbackCall, end_times, fallback_call
from ivr.calls.cdr_file import CdrPosition, CdrTail
from ivr.calls.lifecycle import FlowSource
from ivr.calls.orphans import (
    ASTERISK_RESTARTED,
    AsteriskFacts,
    Closure,
    asterisk_facts,
    closure,
    hangup_outcome,
    orphans,
    restarted,
)
from ivr.calls.ports import QueuePort
from ivr.flows.model import Flow
from ivr.store import CallRecorder, CallStore, OpenCall, Write

log = logging.getLogger(__name__)

MAX_REMEMBERED_ENDS = 50_000


class OpenCallsSource(Protocol):
    async def open_calls(self, limit: int = 10_000) -> list[OpenCall]: ...


def _utcnow() -> datetime:
    return datetime.now(UTC)


class CallRecovery:
    def __init__(
        self,
        *,
        store: OpenCallsSource,
        recorder: CallRecorder,
        asterisk_info: Callable[[], Awaitable[Mapping[str, Any]]],
        known_calls: Callable[[], set[str]],
        queue: QueuePort | None = None,
        cdr: CdrTail | None = None,
        clock: Callable[[], datetime] = _utcnow,
        flows: FlowSource | None = None,
    ) -> None:
        self._store = store
        self._flows = flows
        self._recorder = recorder
        self._asterisk_info = asterisk_info
        self._known_calls = known_calls
        self._queue = queue
        self._cdr = cdr
        self._clock = clock
        self.asterisk: AsteriskFacts | None = None
        self._restarted = False
        self._ends: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    # --- hooks ---------------------------------------------------------------------------------

    async def before_adopt(self, live_ids: set[str]) -> None:
        try:
            current = asterisk_facts(await self._asterisk_info())
        except Exception as exc:
            log.warning("Asterisk info unreadable at resync (%s); restart not detected", exc)
            self._restarted = False
            return
        self._restarted = restarted(self.asterisk, current)
        if self._restarted:
            log.warning("Asterisk restarted (now up since %s): its calls were lost", current.started_at)
        self.asterisk = current

    def gone_cause(self) -> str | None:
        """The cause for a call in memory whose channel vanished at this resync."""
        return ASTERISK_RESTARTED if self._restarted else None

    async def on_resync(self, live_ids: set[str]) -> None:
        seen_at = self._clock()
        previous = self._task
        self._task = asyncio.get_running_loop().create_task(
            self._recover(previous, set(live_ids), seen_at), name="call-recovery"
        )

    async def wait(self) -> None:
        """The recovery started at the last resync has finished (tests, shutdown)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    # --- the work ------------------------------------------------------------------------------

    async def _recover(
        self, previous: asyncio.Task[None] | None, live_ids: set[str], seen_at: datetime
    ) -> None:
        if previous is not None:
            await asyncio.gather(previous, return_exceptions=True)
        try:
            self.import_cdr()
        except Exception:
            log.exception("CDR import failed; retried at the next connection")
        try:
            await self._close_orphans(live_ids, seen_at)
        except Exception as exc:
            log.warning("records left open were not checked (%s); retried at the next connection", exc)

    def import_cdr(self) -> int:
        """Queue a record for each new fallback call in the CDR file; the read position is saved once
        the recorder has applied them. Returns the number of fallback rows seen."""
        if self._cdr is None:
            return 0
        found = 0
        while True:
            read = self._cdr.read()
            if read is None:
                return found
            chunk, position, more = read
            for problem in chunk.problems[:20]:
                log.warning("CDR %s: %s (row skipped)", self._cdr.path, problem)
            self._remember_ends(end_times(chunk.rows))
            for row in chunk.rows:
                call = fallback_call(row)
                if call is None:
                    continue
                found += 1
                self._recorder.submit(_import(call))
            self._recorder.submit(self._committer(position))
            if not more:
                if found:
                    log.info("CDR: %d calls that took the dialplan fallback recorded", found)
                return found

    def _committer(self, position: CdrPosition) -> Write:
        cdr = self._cdr
        assert cdr is not None

        async def commit(_store: CallStore) -> None:
            cdr.commit(position)

        return commit

    def _remember_ends(self, ends: dict[str, datetime]) -> None:
        self._ends.update(ends)
        excess = len(self._ends) - MAX_REMEMBERED_ENDS
        if excess > 0:
            for key in list(self._ends)[:excess]:
                del self._ends[key]

    async def _close_orphans(self, live_ids: set[str], seen_at: datetime) -> None:
        facts = self.asterisk
        if facts is None:
            return  # without Asterisk's name we cannot tell its calls from another node's
        open_calls = await self._store.open_calls()
        lost = orphans(
            open_calls,
            system_name=facts.system_name,
            live_channels=live_ids,
            known_calls=self._known_calls(),
            seen_at=seen_at,
        )
        noticed = self._clock()
        for call in lost:
            end = closure(
                call,
                asterisk_started_at=facts.started_at,
                cdr_end=self._ends.get(call.channel_id),
                noticed_at=noticed,
                ended_by_flow=hangup_outcome(self._flow(call.flow), call.last_node),
            )
            log.info(
                "call %s on gone channel %s closed: %s, %s", call.id, call.channel_id, end.outcome, end.cause
            )
            self._recorder.submit(_close(call.id, end))
            if self._queue is not None:
                self._queue.leave(call.id, end.cause)  # an operator restored as busy with it is freed

    def _flow(self, name: str | None) -> Flow | None:
        if self._flows is None or name is None:
            return None
        try:
            return self._flows.get(name)
        except Exception:  # a flow removed since the call began: its nodes are not known
            return None


def _import(call: FallbackCall) -> Write:
    async def write(store: CallStore) -> object:
        return await store.import_fallback_call(
            call_id=call.call_id,
            channel_id=call.channel_id,
            caller_number=call.caller_number,
            caller_name=call.caller_name,
            dialed=call.dialed or None,
            started_at=call.started_at,
            answered_at=call.answered_at,
            ended_at=call.ended_at,
            outcome=call.outcome,
            cause=call.cause,
        )

    return write


def _close(call_id: str, end: Closure) -> Write:
    async def write(store: CallStore) -> object:
        return await store.close_lost_call(call_id, end.ended_at, end.outcome, end.cause)

    return write
