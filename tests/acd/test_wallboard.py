"""The wallboard's snapshot (pure), today's cached figures, and the ACD source the wiring composes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from acd.agent_book import EPOCH
from acd.agents import AgentState, AgentStatus
from acd.caller_directory import Caller
from acd.distributor import QueueSnapshot
from acd.service import AcdService, AcdSettings
from acd.wallboard import (
    DEFAULT_TARGET_SHARE,
    AcdWallboard,
    TodayFigures,
    build_snapshot,
    level,
    start_of_day,
)
from ivr.calls.legs import LegRegistry
from ivr.calls.ports import QueueRequest
from tests.acd.builders import T0, agent, at, config, queue
from tests.calls.fake_ari import FakeAri
from tests.calls.harness import ImmediateRecorder, RecordingStore

CONFIG = config(
    [agent("2101", {"orders": 3}), agent("2102", {"returns": 3}), agent("2103", {"orders": 1})],
    [queue("orders", display={"en": "Orders"}), queue("returns", target_rings=4)],
)


def snap(waiting: int = 0, longest: float = 0.0, callbacks: int = 0) -> QueueSnapshot:
    return QueueSnapshot(waiting, longest, available=1, busy=1, paused=0, logged_in=2, callbacks=callbacks)


def request(call_id: str, queue_name: str = "orders", name: str = "Hanako") -> QueueRequest:
    return QueueRequest(call_id, f"chan-{call_id}", queue_name, 0, "ja", T0, 300, "0312345678", name)


def caller(call_id: str, queue_name: str, agent_id: str | None = None) -> Caller:
    return Caller(request(call_id, queue_name), lambda _e: None, queue_name, agent_id)


REPORT: dict[str, Any] = {
    "queues": {
        "orders": {
            "offered": 10,
            "answered": 8,
            "abandoned": 2,
            "short_abandons": 1,
            "share_within_target": 0.75,
            "asa_s": 7.5,
        }
    }
}


def build(**over: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "now": at(100),
        "config": CONFIG,
        "ring_cycle_s": 3.0,
        "queues": {"orders": snap(2, 42.04, callbacks=1), "returns": snap()},
        "agents": [],
        "callers": {},
        "live_calls": [],
        "today": REPORT,
    }
    args.update(over)
    return build_snapshot(**args)


def test_queue_tiles_carry_live_counts_and_todays_figures() -> None:
    orders, returns = build()["queues"]
    assert orders["name"] == "orders" and orders["display"] == {"en": "Orders"}
    assert (orders["waiting"], orders["longest_wait_s"], orders["callbacks_pending"]) == (2, 42.0, 1)
    assert orders["within_target_today"] == 0.75
    assert (orders["asa_s_today"], orders["abandoned_today"], orders["short_abandons_today"]) == (7.5, 2, 1)
    assert (orders["offered_today"], orders["answered_today"]) == (10, 8)
    assert orders["target_s"] == 9.0 and orders["target_rings"] == 3
    assert returns["target_s"] == 12.0  # four rings of 3 s
    assert returns["within_target_today"] is None and returns["abandoned_today"] == 0  # no calls today
    assert returns["level"] is None


def test_share_is_coloured_against_the_target_share() -> None:
    assert build()["queues"][0]["target_share"] == DEFAULT_TARGET_SHARE == 0.8
    assert build()["queues"][0]["level"] == "warn"  # 75 % against 80 %
    assert build(target_share=0.9)["queues"][0]["level"] == "bad"
    assert build(target_share=0.75)["queues"][0]["level"] == "ok"


@pytest.mark.parametrize(
    ("share", "expected"),
    [(0.8, "ok"), (0.95, "ok"), (0.79, "warn"), (0.7, "warn"), (0.69, "bad"), (0.0, "bad"), (None, None)],
)
def test_level_thresholds(share: float | None, expected: str | None) -> None:
    assert level(share, 0.8) == expected


def test_without_todays_report_the_live_figures_still_show() -> None:
    data = build(today=None)
    assert data["today"]["available"] is False
    orders = data["queues"][0]
    assert orders["waiting"] == 2 and orders["within_target_today"] is None and orders["level"] is None
    assert build()["today"] == {"since": "2026-01-05T00:00:00Z", "available": True}


def test_agents_show_state_time_in_state_reason_and_their_call() -> None:
    agents = [
        AgentStatus("2102", AgentState.ON_CALL, at(40), current_call="call-7", registered=True),
        AgentStatus("2101", AgentState.PAUSED, at(70), reason="lunch"),
        AgentStatus("2103", AgentState.LOGGED_OUT, EPOCH, current_call="stale"),
    ]
    data = build(agents=agents, callers={"call-7": caller("call-7", "returns", "2102")})
    by_id = {a["id"]: a for a in data["agents"]}
    assert [a["id"] for a in data["agents"]] == ["2101", "2102", "2103"]
    assert by_id["2101"] == {
        "id": "2101",
        "name": "Agent 2101",
        "state": "paused",
        "since": "2026-01-05T03:01:10Z",
        "seconds_in_state": 30.0,
        "reason": "lunch",
        "registered": False,
        "call": None,
        "queue": None,
    }
    assert (by_id["2102"]["call"], by_id["2102"]["queue"], by_id["2102"]["seconds_in_state"]) == (
        "call-7",
        "returns",
        60.0,
    )
    assert by_id["2103"]["call"] is None  # logged out: no call, and no time since 1970
    assert by_id["2103"]["seconds_in_state"] is None and by_id["2103"]["since"] is None
    assert data["agent_states"] == {"logged_out": 1, "on_call": 1, "paused": 1}


def test_calls_in_progress_say_where_they_are() -> None:
    live = [
        {
            "id": "call-1",
            "caller": {"number": "0311", "name": "<script>x</script>"},
            "flow": "shop",
            "node": "menu",
            "started_at": "2026-01-05T03:00:10Z",
            "queue": None,
        },
        {"id": "call-2", "caller": {"number": "0322", "name": ""}, "flow": "shop", "node": "q"},
        {"id": "call-3", "caller": {"number": "0333", "name": ""}, "flow": "shop", "node": "q"},
    ]
    callers = {"call-2": caller("call-2", "orders"), "call-3": caller("call-3", "returns", "2102")}
    calls = build(live_calls=live, callers=callers)["calls"]
    assert [(c["id"], c["where"], c["queue"], c["agent"]) for c in calls] == [
        ("call-1", "flow", None, None),
        ("call-2", "queue", "orders", None),
        ("call-3", "agent", "returns", "2102"),
    ]
    assert calls[0]["caller"]["name"] == "<script>x</script>"  # data as is: the page makes it text
    assert (calls[0]["node"], calls[0]["seconds"]) == ("menu", 90.0)
    assert calls[1]["seconds"] is None  # no start time known


def test_a_queue_removed_from_the_config_is_not_shown() -> None:
    names = [q["name"] for q in build(queues={"gone": snap(1), "orders": snap()})["queues"]]
    assert names == ["orders"]


# --- today's figures, cached --------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Report:
    def __init__(self) -> None:
        self.windows: list[tuple[datetime | None, datetime | None]] = []
        self.fail = False

    async def __call__(self, since: datetime | None, until: datetime | None) -> dict[str, Any]:
        self.windows.append((since, until))
        if self.fail:
            raise ConnectionError("database down")
        return {"queues": {}, "n": len(self.windows)}


async def test_todays_report_is_fetched_once_then_only_when_stale() -> None:
    clock, report = Clock(at(0)), Report()
    today = TodayFigures(report, max_age_s=5.0, clock=clock)
    first = await today.get()
    assert report.windows == [(start_of_day(at(0)), start_of_day(at(0)) + timedelta(days=1))]
    for _ in range(3):
        clock.advance(1.0)
        assert await today.get() is first  # 3 s old: cached
    clock.advance(2.0)
    assert (await today.get() or {})["n"] == 2  # 5 s old: fetched again


async def test_a_call_end_refreshes_soon_but_not_twice_in_a_row() -> None:
    clock, report = Clock(at(0)), Report()
    today = TodayFigures(report, max_age_s=5.0, settle_s=1.0, min_gap_s=2.0, clock=clock)
    await today.get()
    today.call_ended()
    await today.get()
    assert len(report.windows) == 1  # the record needs a moment to land
    clock.advance(1.0)
    today.call_ended()  # another one: the gap since the last fetch still counts
    await today.get()
    assert len(report.windows) == 1
    clock.advance(1.0)
    await today.get()
    assert len(report.windows) == 2
    today.call_ended()
    clock.advance(1.5)
    await today.get()
    assert len(report.windows) == 2  # 1.5 s after the previous fetch: within the minimum gap
    clock.advance(0.5)
    await today.get()
    assert len(report.windows) == 3


async def test_a_failed_fetch_keeps_todays_figures_and_waits_before_retrying() -> None:
    clock, report = Clock(at(0)), Report()
    today = TodayFigures(report, max_age_s=5.0, clock=clock)
    good = await today.get()
    report.fail = True
    clock.advance(5.0)
    assert await today.get() is good
    assert await today.get() is good
    assert len(report.windows) == 2  # no retry before max age again


async def test_a_new_day_fetches_the_new_day_and_drops_yesterdays_on_failure() -> None:
    clock, report = Clock(T0.replace(hour=23, minute=59, second=59)), Report()
    today = TodayFigures(report, max_age_s=60.0, clock=clock)
    await today.get()
    clock.advance(2.0)
    report.fail = True
    assert await today.get() is None
    assert report.windows[-1][0] == start_of_day(clock.now) != report.windows[0][0]


async def test_concurrent_readers_share_one_fetch() -> None:
    clock, report = Clock(at(0)), Report()
    today = TodayFigures(report, clock=clock)
    results = await asyncio.gather(*(today.get() for _ in range(5)))
    assert len(report.windows) == 1 and all(r is results[0] for r in results)


# --- the ACD as the wallboard's source ------------------------------------------------------------


async def test_acd_wallboard_reads_the_live_acd_and_hears_of_every_change() -> None:
    clock, report = Clock(T0), Report()
    service = AcdService(
        config=CONFIG,
        ari=FakeAri(),
        legs=LegRegistry(),
        submit=ImmediateRecorder(RecordingStore()).submit,
        settings=AcdSettings(),
        clock=clock,
    )
    calls_changed: list[Any] = []
    live = [{"id": "call-1", "caller": {"number": "0312", "name": "Hanako"}, "flow": "shop", "node": "q"}]
    board = AcdWallboard(service, report, lambda: live, calls_changed, clock=clock)
    notified: list[int] = []
    board.subscribe(lambda: notified.append(1))
    service.start()
    try:
        service.set_agent_state("2101", "paused", "training")
        clock.advance(20.0)
        service.enter(request("call-1", "orders"), lambda _e: None)
        for _ in range(50):
            await asyncio.sleep(0)
        assert len(notified) >= 2  # the agent's change and the queued caller, each told
        data = await board.snapshot()
        orders = next(q for q in data["queues"] if q["name"] == "orders")
        assert (orders["waiting"], orders["longest_wait_s"]) == (1, 20.0)
        assert data["calls"][0]["where"] == "queue" and data["calls"][0]["queue"] == "orders"
        paused = next(a for a in data["agents"] if a["id"] == "2101")
        assert (paused["state"], paused["reason"], paused["seconds_in_state"]) == ("paused", "training", 20.0)
        assert len(calls_changed) == 2  # the cache's refresh hook and the subscriber's notify
        calls_changed[0]()  # a call ended: today's figures are fetched again soon
        clock.advance(2.0)
        await board.snapshot()
        assert len(report.windows) == 2
    finally:
        await service.close()
