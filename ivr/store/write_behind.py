"""``CallRecorder``: non-blocking write-behind to the ``CallStore`` for call sessions.

``submit(write)`` returns at once. One writer task applies writes strictly in submission order, all
that are queued in one transaction; woken from idle it first lingers ``linger_s`` (group commit) so a
quiet system's writes share transactions too: a transaction costs far more CPU than a write in it.
When the database fails (connection lost, locked, timed out) the failed write stays at the head of
the queue and is retried with exponential backoff; the queue is kept (bounded, but large). One
warning is logged per outage, not per write, and one info line when the database is back.
A write that fails for a non-database reason (a bug, bad data) is logged and dropped so it cannot
block every later write.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from ivr.store.calls import CallStore, StoreClosedError

log = logging.getLogger(__name__)

Write = Callable[[CallStore], Awaitable[object]]
"""A write: given the store, apply one change, e.g. ``lambda s: s.node_entered(cid, "menu", now)``."""


TRANSIENT_SQLSTATES = ("08", "40", "53", "57", "55P03")
"""PostgreSQL error codes (classes or full codes) that pass: connection lost or refused (08), transaction
rolled back by a deadlock or serialization conflict (40), out of connections or resources (53), server
shutting down, starting up or cancelling (57: ``57P01`` admin shutdown, ``57P03`` cannot connect now),
lock not available (55P03). asyncpg reports several of them as a plain DBAPI ``Error``."""


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: the database is unreachable, locked, slow, restarting, or not open yet."""
    transient = (OperationalError, PoolTimeoutError, OSError, TimeoutError, StoreClosedError)
    if isinstance(exc, transient):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return exc.connection_invalidated or (
        isinstance(sqlstate, str) and sqlstate.startswith(TRANSIENT_SQLSTATES)
    )


class CallRecorder:
    def __init__(
        self,
        store: CallStore,
        *,
        max_pending: int = 100_000,
        min_backoff_s: float = 0.05,
        max_backoff_s: float = 5.0,
        write_timeout_s: float = 30.0,
        batch_size: int = 200,
        linger_s: float = 0.0,
    ) -> None:
        self.store = store
        self.linger_s = linger_s
        """Group commit: woken from idle, wait this long for more writes to share the transaction."""
        self.batch_size = max(1, batch_size)
        self._singles = 0  # after a batch failed for a bad write: this many writes go one by one
        self.max_pending = max_pending
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.write_timeout_s = write_timeout_s
        self._queue: deque[Write] = deque()
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._outage = False
        self._outage_since = 0.0
        self._dropped_full = 0
        self.dropped = 0
        """Writes dropped: queue full, or failed for a non-database reason."""

    @property
    def pending(self) -> int:
        """Writes not yet applied (including one in flight)."""
        return len(self._queue)

    @property
    def healthy(self) -> bool:
        """False while the writer is retrying through a database outage."""
        return not self._outage

    def submit(self, write: Write) -> bool:
        """Queue a write; never blocks. False when it was refused (recorder closed or queue full)."""
        if self._closed:
            log.error("write submitted to a closed CallRecorder; dropped")
            self.dropped += 1
            return False
        if len(self._queue) >= self.max_pending:
            if self._dropped_full == 0:
                log.error("call recorder queue full (%d pending); dropping new writes", len(self._queue))
            self._dropped_full += 1
            self.dropped += 1
            return False
        self._queue.append(write)
        self._idle.clear()
        self._wakeup.set()
        self._ensure_writer()
        return True

    def _ensure_writer(self) -> asyncio.Task[None]:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="call-recorder")
        return self._task

    async def run(self) -> None:
        """Start the writer now (``submit`` also starts it on first use) and wait while it runs.

        Cancelling ``run`` does not stop the writer; ``close()`` does."""
        await asyncio.shield(self._ensure_writer())

    async def flush(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - contract
        """Wait until every submitted write is applied. False if ``timeout`` passed first."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def close(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - contract
        """Stop accepting writes, try to drain for ``timeout`` seconds, then stop the writer."""
        self._closed = True
        drained = await self.flush(timeout)
        if not drained:
            log.warning("call recorder closed with %d writes not applied", len(self._queue))
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise

    async def _run(self) -> None:
        backoff = self.min_backoff_s
        while True:
            if not self._queue:
                self._idle.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                if self.linger_s > 0 and not self._closed:
                    await asyncio.sleep(self.linger_s)
                continue
            size = 1 if self._singles else self.batch_size
            batch = list(itertools.islice(self._queue, size))
            write = batch[0]
            try:
                async with asyncio.timeout(self.write_timeout_s):
                    if len(batch) == 1:
                        await write(self.store)
                    else:
                        # Everything queued in one transaction: under load most writes of a call
                        # (path, inputs, answer) land together, at a fraction of the cost.
                        async with self.store.batch():
                            for each in batch:
                                await each(self.store)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if len(batch) > 1 and not is_transient(exc):
                    # One bad write spoiled the batch (rolled back): apply them one by one, so only
                    # the bad one is dropped and the order stays.
                    self._singles = len(batch)
                    continue
                if is_transient(exc):
                    if not self._outage:
                        self._outage = True
                        self._outage_since = time.monotonic()
                        log.warning(
                            "database unavailable (%s); holding %d writes and retrying",
                            _short(exc),
                            len(self._queue),
                        )
                    await asyncio.sleep(backoff * random.uniform(0.8, 1.2))
                    backoff = min(backoff * 2, self.max_backoff_s)
                    continue
                log.exception("call store write failed and was dropped")
                self.dropped += 1
                self._queue.popleft()
                self._singles = max(0, self._singles - 1)
                continue
            for _ in batch:
                self._queue.popleft()
            self._singles = max(0, self._singles - len(batch))
            backoff = self.min_backoff_s
            if self._outage:
                self._outage = False
                log.info(
                    "database back after %.1f s; %d writes still queued",
                    time.monotonic() - self._outage_since,
                    len(self._queue),
                )
            if self._dropped_full and len(self._queue) < self.max_pending:
                log.warning("call recorder queue has room again after dropping %d writes", self._dropped_full)
                self._dropped_full = 0


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
