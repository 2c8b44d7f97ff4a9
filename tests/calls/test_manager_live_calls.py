"""CallManager.live_calls (the wallboard's calls in progress) and its calls-changed hook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from ivr.calls.legs import LegRegistry
from ivr.calls.manager import CallManager
from ivr.calls.session import SessionDeps
from ivr.calls.stats import LatencyStats
from ivr.calls.translate import playback_id
from tests.calls.fake_ari import FakeAri, chan_json, event
from tests.calls.harness import Flows, ImmediateRecorder, NamingRenderer, RecordingStore, flow

SHOP = flow(
    """
name: shop
languages: [en]
entry: hello
nodes:
  hello: {type: say, prompt: hi, next: q}
  q: {type: queue, queue: orders, on_no_agents: bye, after: bye}
  bye: {type: hangup}
"""
)


class HeldQueue:
    """An ACD that keeps every caller waiting."""

    def __init__(self) -> None:
        self.entered: list[Any] = []

    def enter(self, request: Any, post: Any) -> None:
        self.entered.append(request)

    def leave(self, call_id: str, reason: str, *, callback_number: str | None = None) -> None:
        pass

    def request_callback(self, call_id: str, number: str, queue: str, note: str | None) -> None:
        pass


@pytest.fixture
async def env() -> AsyncIterator[tuple[CallManager, HeldQueue]]:
    queue = HeldQueue()
    http = aiohttp.ClientSession()
    deps = SessionDeps(
        ari=FakeAri(),
        recorder=ImmediateRecorder(RecordingStore()),
        renderer=NamingRenderer(),  # type: ignore[arg-type]
        http=http,
        stats=LatencyStats(),
        legs=LegRegistry(),
        queue=queue,
    )

    async def find(channel_id: str) -> None:
        return None

    manager = CallManager(app="ivr", flows=Flows({"shop": SHOP}, "shop"), deps=deps, find_open_call=find)
    yield manager, queue
    await manager.shutdown()
    await http.close()


async def until(predicate: Any, within_s: float = 2.0) -> None:
    async with asyncio.timeout(within_s):
        while not predicate():  # noqa: ASYNC110 - polling plain objects
            await asyncio.sleep(0.005)


def start(channel_id: str, created: str, name: str = "Hanako Yamada") -> Any:
    caller = {"name": name, "number": "0312345678"}
    return event("StasisStart", channel=chan_json(channel_id, creationtime=created, caller=caller), args=[])


def played(manager: CallManager, call_id: str, channel_id: str) -> Any:
    """The end of the call's one playing prompt."""
    session = manager.session_for(call_id)
    assert session is not None
    (play_id,) = session.exec.active_plays
    playback = {
        "id": playback_id(call_id, play_id),
        "media_uri": "sound:x",
        "target_uri": f"channel:{channel_id}",
        "state": "done",
    }
    return event("PlaybackFinished", playback=playback)


async def test_live_calls_show_caller_flow_node_start_and_queue(env) -> None:  # type: ignore[no-untyped-def]
    manager, queue = env
    changes: list[int] = []
    manager.on_calls_changed.append(lambda: changes.append(manager.active))
    manager.dispatch(start("chan-b", "2026-11-24T01:02:09.000+0000", name="<script>x</script>"))
    manager.dispatch(start("chan-a", "2026-11-24T01:02:03.000+0000"))
    await until(lambda: len(manager.live_calls()) == 2 and all(c["node"] for c in manager.live_calls()))
    assert changes == [1, 2]
    rows = manager.live_calls()
    assert [r["started_at"] for r in rows] == ["2026-11-24T01:02:03Z", "2026-11-24T01:02:09Z"]  # oldest first
    first, second = rows
    assert first["caller"] == {"number": "0312345678", "name": "Hanako Yamada"}
    assert second["caller"]["name"] == "<script>x</script>"
    assert (first["flow"], first["node"], first["queue"]) == ("shop", "hello", None)
    assert manager.session_for(first["id"]) is not None

    manager.dispatch(played(manager, first["id"], "chan-a"))  # the greeting ends: into the queue
    await until(lambda: manager.live_calls()[0]["node"] == "q")
    assert manager.live_calls()[0]["queue"] == "orders"
    assert [r.call_id for r in queue.entered] == [first["id"]]


async def test_a_call_that_ends_leaves_the_list_and_is_announced(env) -> None:  # type: ignore[no-untyped-def]
    manager, _ = env
    changes: list[int] = []
    manager.dispatch(start("chan-a", "2026-11-24T01:02:03.000+0000"))
    await until(lambda: manager.active == 1)
    manager.on_calls_changed.append(lambda: changes.append(manager.active))
    manager.on_calls_changed.insert(0, lambda: 1 / 0)  # a failing listener does not stop the others
    manager.dispatch(event("StasisEnd", channel=chan_json("chan-a")))
    await until(lambda: manager.active == 0)
    assert manager.live_calls() == []
    assert changes == [0]
