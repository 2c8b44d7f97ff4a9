"""The ACD on the real Asterisk: operators are SIPp phones registered with digest auth, callers are SIPp."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call, newest_call
from tests.integration.phones import agent, available, log_out, register, set_state, until


async def test_returns_call_rings_only_the_returns_agent_and_ring_to_answer_is_measured(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    returns = await register(pbx, "3101", answer_ms=4000, talk_ms=2000)
    orders = await register(pbx, "3102", answer_ms=0, talk_ms=1000)
    try:
        await available(controller, "3101", "3102")
        result = await call(pbx, tmp_path, service="7001", caller="0312220001", trailing_silence_s=25)
        assert result.ok, result.describe()
        record = newest_call(controller, caller="0312220001")
        assert record["queue"] == "t_returns"
        assert record["agent"] == "3101"
        assert [o["agent"] for o in record["offers"]] == ["3101"]
        assert record["offers"][0]["outcome"] == "answered"
        assert abs(record["ring_to_answer_s"] - 4.0) <= 0.3, record
        assert abs(record["rings"] - 1.33) <= 0.1, record
        assert record["outcome"] == "completed"
        assert record["path"] == ["route", "q_returns", "bye"]
        took = await orders.hang_up()
        assert took.successful == 0 and took.failed == 0  # the orders-only phone never rang
        assert (await returns.hang_up()).successful == 1  # answered, talked, hung up: bridged
        assert agent(controller, "3101")["calls_handled"] >= 1
    finally:
        await log_out(controller, pbx, "3101", "3102")


async def test_two_callers_one_agent_are_served_in_order(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    phone = await register(pbx, "3108", answer_ms=500, talk_ms=2000, calls=2)
    try:
        await available(controller, "3108")
        first = asyncio.create_task(
            call(pbx, tmp_path, service="7005", caller="0312220011", trailing_silence_s=30, timeout_s=70)
        )
        await asyncio.sleep(1.5)
        second = asyncio.create_task(
            call(pbx, tmp_path, service="7005", caller="0312220012", trailing_silence_s=30, timeout_s=70)
        )
        results = await asyncio.gather(first, second)
        assert all(r.ok for r in results), [r.describe() for r in results]
        a = newest_call(controller, caller="0312220011")
        b = newest_call(controller, caller="0312220012")
        assert a["agent"] == b["agent"] == "3108"
        assert a["offers"][0]["answered_at"] < b["offers"][0]["answered_at"]
        assert (await phone.hang_up()).successful == 2
    finally:
        await log_out(controller, pbx, "3108")


async def test_ring_all_connects_exactly_one_of_three(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    phones = [
        await register(pbx, "3103", answer_ms=1500, talk_ms=2000),
        await register(pbx, "3104", answer_ms=3000, talk_ms=2000),
        await register(pbx, "3105", answer_ms=4500, talk_ms=2000),
    ]
    try:
        await available(controller, "3103", "3104", "3105")
        result = await call(pbx, tmp_path, service="7003", caller="0312220021", trailing_silence_s=25)
        assert result.ok, result.describe()
        record = newest_call(controller, caller="0312220021")
        assert record["agent"] == "3103"
        outcomes = {o["agent"]: o["outcome"] for o in record["offers"]}
        assert outcomes["3103"] == "answered"
        assert set(outcomes) == {"3103", "3104", "3105"}
        assert [o for a, o in outcomes.items() if a != "3103"] == ["lost", "lost"]
        answered = [(await p.hang_up()).successful for p in phones]
        assert answered[0] == 1
        assert answered[1:] == [0, 0]  # the others stopped ringing before they could answer
    finally:
        await log_out(controller, pbx, "3103", "3104", "3105")


async def test_no_answer_pauses_the_agent_and_the_call_reaches_the_next(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    away = await register(pbx, "3106", never_answer=True)
    backup = await register(pbx, "3107", answer_ms=500, talk_ms=1500)
    try:
        await available(controller, "3106", "3107")
        set_state(controller, "3107", "paused", "break")
        set_state(controller, "3107", "available")  # 3106 has been idle longer: it is offered first
        result = await call(pbx, tmp_path, service="7004", caller="0312220031", trailing_silence_s=25)
        assert result.ok, result.describe()
        record = newest_call(controller, caller="0312220031")
        assert [(o["agent"], o["outcome"]) for o in record["offers"]] == [
            ("3106", "no_answer"),
            ("3107", "answered"),
        ]
        assert record["agent"] == "3107"
        away_state = agent(controller, "3106")
        assert (away_state["state"], away_state["reason"]) == ("paused", "no answer")
        await away.hang_up()
        await backup.hang_up()
    finally:
        await log_out(controller, pbx, "3106", "3107")


async def test_caller_who_hangs_up_while_waiting_is_an_abandon(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    phone = await register(pbx, "3108", never_answer=True)
    try:
        await available(controller, "3108")
        set_state(controller, "3108", "paused", "meeting")  # logged in, nobody free: the caller waits
        result = await call(
            pbx,
            tmp_path,
            service="7005",
            caller="0312220041",
            scenario="caller_hangs_up",
            keys={"hangup_ms": "6000"},
            trailing_silence_s=8,
        )
        assert result.ok, result.describe()
        await until(
            lambda: newest_call(controller, caller="0312220041")["ended_at"] is not None, what="call ended"
        )
        record = newest_call(controller, caller="0312220041")
        assert record["queue"] == "t_solo" and record["queued_at"] is not None
        assert record["outcome"] == "abandoned"
        assert record["offers"] == []
        await phone.hang_up()
    finally:
        await log_out(controller, pbx, "3108")
