"""CallManager while draining (SIGTERM): new callers go to the dialplan fallback and are recorded as such;
calls in progress go on, and ``wait_idle`` says when none is left."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from ivr.calls.legs import LegRegistry
from ivr.calls.manager import DRAINING_CAUSE, CallManager
from ivr.calls.session import SessionDeps
from ivr.calls.stats import LatencyStats
from tests.calls.fake_ari import FakeAri, chan_json, event, not_found
from tests.calls.harness import Flows, ImmediateRecorder, NamingRenderer, Open, RecordingStore, flow

WAITING = flow(
    """
name: waiting
languages: [en]
entry: a
nodes:
  a: {type: collect, prompt: hi, var: d, max_length: 4, timeout: 60, retries: 0, next: b, on_failure: b}
  b: {type: hangup, outcome: completed}
"""
)


@pytest.fixture
async def env() -> AsyncIterator[tuple[CallManager, FakeAri, RecordingStore]]:
    ari, store = FakeAri(), RecordingStore()
    http = aiohttp.ClientSession()

    async def find(channel_id: str) -> Open | None:
        return None

    deps = SessionDeps(
        ari=ari,
        recorder=ImmediateRecorder(store),
        renderer=NamingRenderer(),  # type: ignore[arg-type]
        http=http,
        stats=LatencyStats(),
        legs=LegRegistry(),
    )
    manager = CallManager(
        app="ivr", flows=Flows({"waiting": WAITING}, "waiting"), deps=deps, find_open_call=find
    )
    yield manager, ari, store
    await manager.shutdown()
    await http.close()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_caller_arriving_while_draining_goes_to_the_fallback_recorded_as_failed(env) -> None:  # type: ignore[no-untyped-def]
    manager, ari, store = env
    manager.draining = True
    manager.dispatch(event("StasisStart", channel=chan_json("late-1"), args=[]))
    await settle()
    assert manager.active == 0  # no flow runs for it
    assert ari.calls_to("channels.continue_in_dialplan") == [
        (("late-1",), {"context": "controller-away", "extension": "s", "priority": 1})
    ]
    assert "channels.answer" not in ari.ops()
    (started,) = store.named("call_started")
    (ended,) = store.named("call_ended")
    assert started[0][1] == "late-1"  # the channel id, so Asterisk's CDR row matches it
    assert ended[0][0] == started[0][0]  # the same call id
    assert ended[0][2:] == ("failed", DRAINING_CAUSE)
    assert await manager.wait_idle(0.5)


async def test_a_caller_gone_before_the_hand_off_is_still_recorded(env) -> None:  # type: ignore[no-untyped-def]
    manager, ari, store = env
    ari.fail("channels.continue_in_dialplan", not_found("/channels/late-2/continue"))
    manager.draining = True
    manager.dispatch(event("StasisStart", channel=chan_json("late-2"), args=[]))
    await settle()
    assert [e[0][2:] for e in store.named("call_ended")] == [("failed", DRAINING_CAUSE)]


async def test_calls_in_progress_go_on_while_draining_and_wait_idle_waits_for_them(env) -> None:  # type: ignore[no-untyped-def]
    manager, ari, store = env
    manager.dispatch(event("StasisStart", channel=chan_json("early-1"), args=[]))
    await settle()
    manager.draining = True
    assert manager.active == 1
    assert not await manager.wait_idle(0.3)  # still there at the limit
    manager.dispatch(event("StasisEnd", channel=chan_json("early-1")))
    assert await manager.wait_idle(2.0)
    assert manager.active == 0
    assert ari.calls_to("channels.continue_in_dialplan") == []  # the early caller was never turned away
    assert [e[0][2] for e in store.named("call_ended")] != ["failed"]


async def test_not_draining_a_caller_enters_the_flow(env) -> None:  # type: ignore[no-untyped-def]
    manager, ari, _ = env
    manager.dispatch(event("StasisStart", channel=chan_json("c-1"), args=[]))
    await settle()
    assert manager.active == 1
    assert ari.calls_to("channels.continue_in_dialplan") == []
