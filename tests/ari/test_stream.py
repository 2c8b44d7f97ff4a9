from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ivr.ari import events as ev
from ivr.ari.client import AriClient
from ivr.ari.errors import AriAuthError, AriConnectionError
from ivr.ari.stream import EventStream
from tests.ari import samples
from tests.ari.fake_ari import FakeAri

MIN, MAX = 0.01, 0.05


def fast(client: AriClient, on_connect: Callable[[], Awaitable[None]] | None = None) -> EventStream:
    return EventStream(client, on_connect=on_connect, min_backoff=MIN, max_backoff=MAX)


def dtmf(digit: str) -> dict[str, Any]:
    return {**samples.EVENTS["ChannelDtmfReceived"], "digit": digit}


async def until(predicate: Callable[[], bool]) -> None:
    """Wait (bounded by the test's timeout) until `predicate` holds."""
    async with asyncio.timeout(10):
        while not predicate():  # noqa: ASYNC110 - polls state owned by other tasks
            await asyncio.sleep(0.005)


class Consumer:
    """Iterates a stream in its own task, collecting events (and on_connect marks) in order."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.task: asyncio.Task[None] | None = None

    def start(self, stream: EventStream) -> None:
        async def run() -> None:
            async for event in stream:
                self.log.append(event.digit if isinstance(event, ev.ChannelDtmfReceived) else event.type)

        self.task = asyncio.create_task(run())

    async def finish(self) -> None:
        assert self.task is not None
        async with asyncio.timeout(10):
            await self.task


@pytest.fixture
async def consumer() -> AsyncIterator[Consumer]:
    c = Consumer()
    yield c
    if c.task is not None and not c.task.done():
        c.task.cancel()


def marking(
    consumer: Consumer, extra: Callable[[int], Awaitable[None]] | None = None
) -> Callable[[], Awaitable[None]]:
    count = 0

    async def on_connect() -> None:
        nonlocal count
        count += 1
        consumer.log.append(f"connect#{count}")
        if extra is not None:
            await extra(count)

    return on_connect


async def test_events_arrive_in_order_after_on_connect(
    fake: FakeAri, client: AriClient, consumer: Consumer
) -> None:
    stream = fast(client, marking(consumer))
    consumer.start(stream)
    await fake.wait_connections(1)
    assert fake.ws_queries == [{"app": "ivr", "subscribeAll": "false"}]
    for d in "123":
        await fake.send(dtmf(d))
    await until(lambda: len(consumer.log) == 4)
    assert consumer.log == ["connect#1", "1", "2", "3"]
    assert stream.connected
    assert stream.last_error is None
    await stream.close()
    await consumer.finish()
    assert not stream.connected


async def test_reconnects_after_server_drops_socket(
    fake: FakeAri, client: AriClient, consumer: Consumer
) -> None:
    async def send_during_resync(count: int) -> None:
        # Events sent while on_connect runs must wait until it returns.
        if count == 2:
            await fake.send(dtmf("9"))

    stream = fast(client, marking(consumer, send_during_resync))
    consumer.start(stream)
    await fake.wait_connections(1)
    await fake.send(dtmf("1"))
    await until(lambda: consumer.log == ["connect#1", "1"])

    await fake.drop()
    await fake.wait_connections(2)
    await until(lambda: "9" in consumer.log)
    for d in "45":
        await fake.send(dtmf(d))
    await until(lambda: len(consumer.log) == 6)
    assert consumer.log == ["connect#1", "1", "connect#2", "9", "4", "5"]
    assert stream.connections == 2
    await stream.close()
    await consumer.finish()


async def test_wrong_password_raises_auth_error(fake: FakeAri) -> None:
    ari = AriClient(fake.base_url, fake.user, "wrong", "ivr")
    stream = fast(ari)
    try:
        with pytest.raises(AriAuthError) as info:
            async with asyncio.timeout(10):
                async for _ in stream:
                    pass
        assert info.value.status == 401
        assert fake.ws_queries == []
    finally:
        await ari.close()


async def test_close_ends_iteration_cleanly(fake: FakeAri, client: AriClient, consumer: Consumer) -> None:
    stream = fast(client)
    consumer.start(stream)
    await fake.wait_connections(1)
    await until(lambda: stream.connected)
    await stream.close()
    await consumer.finish()  # no exception, no hang
    assert consumer.log == []
    with pytest.raises(StopAsyncIteration):
        await stream.__anext__()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_asterisk_down_at_first_connect_keeps_retrying(consumer: Consumer) -> None:
    port = _free_port()
    fake = FakeAri()
    ari = AriClient(f"http://127.0.0.1:{port}", fake.user, fake.password, "ivr")
    stream = fast(ari, marking(consumer))
    try:
        consumer.start(stream)
        await until(lambda: isinstance(stream.last_error, AriConnectionError))
        assert not stream.connected
        await fake.start(port)  # Asterisk comes up
        await fake.wait_connections(1)
        await fake.send(dtmf("7"))
        await until(lambda: consumer.log == ["connect#1", "7"])
        assert stream.last_error is None
        await stream.close()
        await consumer.finish()
    finally:
        await fake.stop()
        await ari.close()


async def test_close_while_retrying(consumer: Consumer) -> None:
    ari = AriClient(f"http://127.0.0.1:{_free_port()}", "u", "p", "ivr")
    stream = EventStream(ari, min_backoff=30.0, max_backoff=30.0)  # nothing listens: it backs off 30 s
    try:
        consumer.start(stream)
        await until(lambda: stream.last_error is not None)
        await asyncio.sleep(0.05)  # the iterator is now sleeping before its second attempt
        assert consumer.task is not None and not consumer.task.done()
        await stream.close()
        # close() wakes the backoff sleep: iteration ends long before the 30 s backoff would.
        await asyncio.wait_for(asyncio.shield(consumer.task), timeout=2.0)
        assert consumer.log == []
        assert stream.closed and not stream.connected
    finally:
        await ari.close()


async def test_failed_on_connect_reconnects(fake: FakeAri, client: AriClient, consumer: Consumer) -> None:
    async def fail_first(count: int) -> None:
        if count == 1:
            raise AriConnectionError("resync failed")

    stream = fast(client, marking(consumer, fail_first))
    consumer.start(stream)
    await fake.wait_connections(2)
    await fake.send(dtmf("3"))
    await until(lambda: consumer.log[-1:] == ["3"])
    assert consumer.log == ["connect#1", "connect#2", "3"]
    await stream.close()
    await consumer.finish()


async def test_garbage_messages_skipped(fake: FakeAri, client: AriClient, consumer: Consumer) -> None:
    stream = fast(client)
    consumer.start(stream)
    await fake.wait_connections(1)
    await fake.send("not json")
    await fake.send("[1, 2]")
    await fake.send({"type": "ChannelVarset", "application": "ivr"})
    await fake.send(dtmf("1"))
    await until(lambda: len(consumer.log) == 2)
    assert consumer.log == ["ChannelVarset", "1"]
    await stream.close()
    await consumer.finish()


def test_backoff_is_bounded_and_grows() -> None:
    stream = EventStream(AriClient("http://127.0.0.1:1", "u", "p", "ivr"), min_backoff=0.5, max_backoff=4.0)
    for failures, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (10, 4.0)]:
        stream._failures = failures
        delays = [stream._next_delay() for _ in range(200)]
        assert all(0.5 <= d <= cap for d in delays)
    with pytest.raises(ValueError):
        EventStream(AriClient("http://127.0.0.1:1", "u", "p", "ivr"), min_backoff=2, max_backoff=1)
