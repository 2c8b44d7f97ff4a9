"""CallManager: events to their owners, calls started and adopted through the lifecycle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from ivr.calls.legs import LegRegistry
from ivr.calls.manager import CallManager
from ivr.calls.session import SessionDeps
from ivr.calls.stats import LatencyStats
from tests.calls.fake_ari import FakeAri, chan_json, channel, event
from tests.calls.harness import Flows, ImmediateRecorder, NamingRenderer, Open, RecordingStore, flow

SHOP = flow(
    """
name: shop
languages: [en]
entry: a
nodes:
  a: {type: say, prompt: hi, next: b}
  b: {type: say, prompt: bye}
"""
)


@pytest.fixture
async def env() -> AsyncIterator[tuple[CallManager, FakeAri, RecordingStore, dict[str, Open]]]:
    ari, store, legs = FakeAri(), RecordingStore(), LegRegistry()
    http = aiohttp.ClientSession()
    open_calls: dict[str, Open] = {}

    async def find(channel_id: str) -> Open | None:
        return open_calls.get(channel_id)

    deps = SessionDeps(
        ari=ari,
        recorder=ImmediateRecorder(store),
        renderer=NamingRenderer(),  # type: ignore[arg-type]
        http=http,
        stats=LatencyStats(),
        legs=legs,
    )
    manager = CallManager(app="ivr", flows=Flows({"shop": SHOP}, "shop"), deps=deps, find_open_call=find)
    yield manager, ari, store, open_calls
    await manager.shutdown()
    await http.close()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_stasis_start_of_a_caller_starts_one_call(env) -> None:  # type: ignore[no-untyped-def]
    manager, ari, store, _ = env
    start = event("StasisStart", channel=chan_json("caller-1"), args=[])
    manager.dispatch(start)
    manager.dispatch(start)  # a duplicate does not start a second call
    await settle()
    assert manager.active == 1
    assert len(store.named("call_started")) == 1
    assert ari.ops()[:2] == ["channels.answer", "channels.play"]


async def test_legs_never_become_calls_and_their_events_reach_their_owner(env) -> None:  # type: ignore[no-untyped-def]
    manager, _, _, _ = env
    manager.dispatch(event("StasisStart", channel=chan_json("x1"), args=["leg:agent:call-9"]))
    manager.dispatch(event("StasisStart", channel=chan_json("leg-call-9-xfer1"), args=[]))
    await settle()
    assert manager.active == 0
    got = []
    manager._deps.legs.claim("leg-call-9-agent1", got.append)
    ringing = event("ChannelStateChange", channel=chan_json("leg-call-9-agent1", state="Ringing"))
    manager.dispatch(ringing)
    assert got == [ringing]


async def test_resync_adopts_known_calls_where_they_were_and_skips_legs(env) -> None:  # type: ignore[no-untyped-def]
    manager, ari, store, open_calls = env
    ari.app_channels = ["c-known", "c-new", "leg-call-1-agent1"]
    ari.channels_by_id = {cid: channel(cid) for cid in ari.app_channels}
    open_calls["c-known"] = Open("call-old", "shop", "b")
    await manager.resync()
    await settle()
    assert manager.active == 2
    assert manager.session_for("call-old") is not None
    assert manager.session_for("call-old").resume_at == "b"  # type: ignore[union-attr]
    assert len(store.named("call_started")) == 1  # only the unknown channel is a new record


async def test_resync_ends_calls_whose_channel_is_gone(env) -> None:  # type: ignore[no-untyped-def]
    manager, ari, store, _ = env
    manager.dispatch(event("StasisStart", channel=chan_json("caller-1"), args=[]))
    await settle()
    ari.app_channels = []
    await manager.resync()
    for _ in range(50):
        await asyncio.sleep(0.01)
        if manager.active == 0:
            break
    assert manager.active == 0
    assert store.named("call_ended")
