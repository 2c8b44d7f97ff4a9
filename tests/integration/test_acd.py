"""The ACD on the real Asterisk: operators are SIPp phones registered with digest auth, callers are SIPp."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any

from ivr.testing.sipp import run_sipp, start_sipp
from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call, call_keys, newest_call
from tests.integration.phones import (
    SECRETS,
    AgentPhone,
    agent,
    available,
    log_out,
    register,
    set_state,
    until,
)


async def test_returns_call_rings_only_the_returns_agent_and_ring_to_answer_is_measured(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    returns = await register(pbx, "3101", answer_ms=4000, talk_ms=2000)
    orders = await register(pbx, "3102", answer_ms=0, talk_ms=1000)
    try:
        await available(controller, "3101", "3102")
        result = await call(pbx, tmp_path, service="7701", caller="0312220001", trailing_silence_s=25)
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
            call(pbx, tmp_path, service="7705", caller="0312220011", trailing_silence_s=30, timeout_s=70)
        )
        await asyncio.sleep(1.5)
        second = asyncio.create_task(
            call(pbx, tmp_path, service="7705", caller="0312220012", trailing_silence_s=30, timeout_s=70)
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
        result = await call(pbx, tmp_path, service="7703", caller="0312220021", trailing_silence_s=25)
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
    away, backup = await _away_then_backup(pbx, controller)
    try:
        result = await call(pbx, tmp_path, service="7704", caller="0312220031", trailing_silence_s=25)
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
            service="7705",
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


async def test_controller_killed_while_one_caller_talks_and_one_waits(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    """SIGKILL the controller: the talking caller stays bridged, the waiting one keeps its place."""
    phone = await register(pbx, "3108", answer_ms=500, talk_ms=12000, calls=2)
    try:
        await available(controller, "3108")
        talking = asyncio.create_task(
            call(pbx, tmp_path, service="7705", caller="0312220061", trailing_silence_s=40, timeout_s=80)
        )
        await until(lambda: agent(controller, "3108")["state"] == "on_call", what="first caller connected")
        waiting = asyncio.create_task(
            call(pbx, tmp_path, service="7705", caller="0312220062", trailing_silence_s=50, timeout_s=90)
        )
        await until(lambda: _queued(controller, "0312220062"), what="second caller queued")
        queued_at = _queued(controller, "0312220062")
        controller.kill()
        await asyncio.to_thread(controller.start)

        first, second = await asyncio.gather(talking, waiting)
        assert first.ok, first.describe()  # not dropped: the operator hung up, then the IVR said goodbye
        assert second.ok, second.describe()
        a = newest_call(controller, caller="0312220061")
        b = newest_call(controller, caller="0312220062")
        assert (a["agent"], a["outcome"], a["offers"][-1]["outcome"]) == ("3108", "completed", "answered")
        assert (b["agent"], b["outcome"]) == ("3108", "completed")
        assert b["queued_at"] == queued_at  # the same place in line, the same wait
        assert b["offers"][-1]["answered_at"] > a["offers"][-1]["ended_at"]
        assert (await phone.hang_up()).successful == 2
    finally:
        await log_out(controller, pbx, "3108")


def _queued(controller: ControllerProcess, caller: str) -> str | None:
    for record in controller.calls(limit=20):
        if record["caller"]["number"] == caller:
            return str(record["queued_at"]) if record["queued_at"] else None
    return None


async def test_agent_logged_out_while_rung_and_the_call_is_offered_again(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    away, backup = await _away_then_backup(pbx, controller)
    try:
        placed = asyncio.create_task(
            call(pbx, tmp_path, service="7706", caller="0312220071", trailing_silence_s=25)
        )
        await until(lambda: agent(controller, "3106")["state"] == "reserved", what="3106 rung")
        set_state(controller, "3106", "logged_out")
        result = await placed
        assert result.ok, result.describe()
        record = newest_call(controller, caller="0312220071")
        offers = [(o["agent"], o["outcome"]) for o in record["offers"]]
        assert offers == [("3106", "cancelled"), ("3107", "answered")]
        assert agent(controller, "3106")["state"] == "logged_out"
        await away.hang_up()
        await backup.hang_up()
    finally:
        await log_out(controller, pbx, "3106", "3107")


async def test_callback_request_keeps_its_place_and_the_customer_is_dialled_back(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path, customer_port: int
) -> None:
    operator = await register(pbx, "3108", answer_ms=500, talk_ms=3000)
    customer = await start_sipp(
        "uas_answer", local_port=customer_port, timeout_s=90, keys={"answer_ms": "1500"}
    )
    try:
        await available(controller, "3108")
        set_state(controller, "3108", "paused", "meeting")  # nobody free: the caller waits, then presses 9
        result = await call_keys(
            pbx, tmp_path, service="7707", groups=[2.0, "9"], caller="0312220081", trailing_silence_s=12
        )
        assert result.ok, result.describe()
        record = newest_call(controller, caller="0312220081")
        assert record["outcome"] == "callback"
        assert record["path"] == ["route", "q_cb", "cb", "cb_bye"]
        set_state(controller, "3108", "available")  # the operator is free: the promise is kept
        await until(lambda: _callback_status(controller, record["id"]) == "done", within_s=40, what="kept")
        attempts = _callback(controller, record["id"])["attempts"]
        assert [(a["attempt"], a["outcome"]) for a in attempts] == [(1, "answered")]
        answered = await customer.stop()
        assert answered.successful == 1, answered.describe()  # the customer's phone was bridged
        assert (await operator.hang_up()).successful == 1
        record = newest_call(controller, caller="0312220081")
        assert record["outcome"] == "callback"  # never an abandon
        assert [(o["agent"], o["outcome"]) for o in record["offers"]] == [("3108", "answered")]
    finally:
        await customer.stop()
        await log_out(controller, pbx, "3108")


def _callback(controller: ControllerProcess, call_id: str) -> dict[str, Any]:
    status, rows = controller.get("/api/callbacks?limit=20")
    assert status == 200, rows
    return next((dict(r) for r in rows if r["call_id"] == call_id), {})


def _callback_status(controller: ControllerProcess, call_id: str) -> str | None:
    return _callback(controller, call_id).get("status")


async def test_editing_the_agents_file_while_a_call_talks_drops_nobody(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path, acd_files: tuple[Path, Path]
) -> None:
    agents_file = acd_files[0]
    original = agents_file.read_text()
    phone = await register(pbx, "3101", answer_ms=500, talk_ms=9000)
    try:
        await available(controller, "3101")
        placed = asyncio.create_task(
            call(pbx, tmp_path, service="7701", caller="0312220091", trailing_silence_s=30)
        )
        await until(lambda: agent(controller, "3101")["state"] == "on_call", what="talking")
        agents_file.write_text(
            original.replace("skills: {t_returns: 5}", "skills: {t_returns: 5, t_orders: 1}").replace(
                "Returns Expert", "Returns Lead"
            )
        )
        await until(lambda: agent(controller, "3101")["skills"].get("t_orders") == 1, what="reloaded")
        assert agent(controller, "3101")["name"] == "Returns Lead"
        assert agent(controller, "3101")["state"] == "on_call"  # reload logs nobody out
        result = await placed
        assert result.ok, result.describe()
        record = newest_call(controller, caller="0312220091")
        assert (record["agent"], record["outcome"]) == ("3101", "completed")
        assert agent(controller, "3101")["state"] == "available"
        assert (await phone.hang_up()).successful == 1
    finally:
        agents_file.write_text(original)
        await until(lambda: "t_orders" not in agent(controller, "3101")["skills"], what="restored")
        await log_out(controller, pbx, "3101")


async def test_relaxation_widens_the_pool_after_the_wait_it_names(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    """t_relax wants proficiency 4; after 6 s any proficiency will do: the level-2 operator is rung."""
    phone = await register(pbx, "3102", answer_ms=500, talk_ms=1000)
    try:
        await available(controller, "3102")
        result = await call(pbx, tmp_path, service="7708", caller="0312220101", trailing_silence_s=25)
        assert result.ok, result.describe()
        record = newest_call(controller, caller="0312220101")
        assert record["agent"] == "3102"
        waited = _ts(record["offers"][0]["ring_started_at"]) - _ts(record["queued_at"])
        assert waited.total_seconds() >= 5.5, record  # not before the rule's 6 s
        assert (await phone.hang_up()).successful == 1
    finally:
        await log_out(controller, pbx, "3102")


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _away_then_backup(pbx: TestPbx, controller: ControllerProcess) -> tuple[AgentPhone, AgentPhone]:
    """3106 never answers and has been idle longest (offered first); 3107 answers."""
    away = await register(pbx, "3106", never_answer=True)
    backup = await register(pbx, "3107", answer_ms=500, talk_ms=1500)
    await available(controller, "3106", "3107")
    set_state(controller, "3107", "paused", "break")
    set_state(controller, "3107", "available")
    return away, backup


async def test_operator_pauses_and_unpauses_from_the_phone(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    phone = await register(pbx, "3102", answer_ms=500)
    try:
        await available(controller, "3102")
        for code, state, reason in (("*232", "paused", "lunch"), ("*24", "available", None)):
            dialled = await run_sipp(
                "agent_dials",
                pbx.sip_target,
                service=code,
                auth=("3102", SECRETS["3102"]),
                keys={"caller": "3102", "display": "Orders Only"},
                timeout_s=20,
                recv_timeout_s=15,
            )
            assert dialled.ok, dialled.describe()  # answered, confirmed, hung up by the IVR
            row = agent(controller, "3102")
            assert (row["state"], row["reason"]) == (state, reason)
        await phone.hang_up()
    finally:
        await log_out(controller, pbx, "3102")


async def test_operator_hanging_up_while_the_controller_is_down_ends_the_conversation(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    """The operator leaves during the outage: the restarted controller does not queue the caller
    again; the flow continues after the conversation (goodbye) and the offer is closed."""
    phone = await register(pbx, "3108", answer_ms=500, talk_ms=3000)
    try:
        await available(controller, "3108")
        placed = asyncio.create_task(
            call(pbx, tmp_path, service="7705", caller="0312220111", trailing_silence_s=40, timeout_s=80)
        )
        await until(lambda: agent(controller, "3108")["state"] == "on_call", what="connected")
        controller.kill()
        assert (await phone.hang_up()).successful == 1  # the operator hung up (BYE) during the outage
        await asyncio.to_thread(controller.start)

        result = await placed
        assert result.ok, result.describe()  # goodbye from the IVR, not a second wait in line
        record = newest_call(controller, caller="0312220111")
        assert record["path"][-1] == "bye", record["path"]
        assert [(o["agent"], o["outcome"]) for o in record["offers"]] == [("3108", "answered")]
        assert agent(controller, "3108")["state"] != "on_call"
    finally:
        await log_out(controller, pbx, "3108")


async def test_operator_escalates_a_caller_to_the_warehouse_phone(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    operator = await register(pbx, "3101", answer_ms=500, talk_ms=20000)
    warehouse = await register(pbx, "3107", answer_ms=1000, talk_ms=2000)  # the department's phone
    try:
        await available(controller, "3101")
        placed = asyncio.create_task(
            call(pbx, tmp_path, service="7701", caller="0312220121", trailing_silence_s=40, timeout_s=70)
        )
        await until(lambda: agent(controller, "3101")["state"] == "on_call", what="talking")
        call_id = agent(controller, "3101")["current_call"]
        status, body = controller.post(f"/api/calls/{call_id}/transfer", {"department": "warehouse"})
        assert status == 200, body
        result = await placed
        assert result.ok, result.describe()  # the warehouse talked, hung up, the IVR said goodbye
        record = newest_call(controller, caller="0312220121")
        assert [(o["agent"], o["outcome"]) for o in record["offers"]] == [
            ("3101", "answered"),
            ("warehouse", "answered"),
        ]
        assert record["path"][-1] == "bye"
        assert (await warehouse.hang_up()).successful == 1
        await operator.hang_up()
    finally:
        await log_out(controller, pbx, "3101", "3107")


async def test_operator_sends_a_caller_on_to_another_queue(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    returns = await register(pbx, "3101", answer_ms=500, talk_ms=20000)
    orders = await register(pbx, "3102", answer_ms=800, talk_ms=2000)
    try:
        await available(controller, "3101", "3102")
        placed = asyncio.create_task(
            call(pbx, tmp_path, service="7701", caller="0312220131", trailing_silence_s=40, timeout_s=70)
        )
        await until(lambda: agent(controller, "3101")["state"] == "on_call", what="talking")
        call_id = agent(controller, "3101")["current_call"]
        status, body = controller.post(f"/api/calls/{call_id}/transfer", {"queue": "t_orders"})
        assert (status, body) == (200, {"id": call_id, "queue": "t_orders"})
        result = await placed
        assert result.ok, result.describe()
        record = newest_call(controller, caller="0312220131")
        assert [(o["agent"], o["outcome"]) for o in record["offers"]] == [
            ("3101", "answered"),
            ("3102", "answered"),
        ]
        assert record["agent"] == "3102"
        assert (await orders.hang_up()).successful == 1
        await returns.hang_up()
    finally:
        await log_out(controller, pbx, "3101", "3102")
