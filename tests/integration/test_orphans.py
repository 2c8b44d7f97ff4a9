"""No lost or forever-open call record: records a crash left open are closed, calls that took the dialplan
fallback while the controller was away are imported from Asterisk's CDR, and an Asterisk restart closes
its lost calls and frees their operator. On a private Asterisk + controller (these tests kill them)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ivr.testing.stack import ControllerProcess, TestPbx, start_test_pbx
from tests.integration.calls import call
from tests.integration.phones import agent, available, register, until

pytestmark = pytest.mark.asterisk

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestPbx, ControllerProcess]]:
    folder = tmp_path_factory.mktemp("orphans")
    flows = folder / "flows"
    flows.mkdir()
    shutil.copy(HERE / "flows" / "acd_lines.yaml", flows / "acd_lines.yaml")
    running = start_test_pbx(folder / "pbx")
    proc = ControllerProcess(
        env={
            **running.env,
            "IVR_AGENTS_FILE": str(HERE / "acd" / "agents.yaml"),
            "IVR_QUEUES_FILE": str(HERE / "acd" / "queues.yaml"),
            "IVR_FLOWS_DIR": str(flows),
            "IVR_HOURS_OVERRIDE": "open",
            "IVR_LOG_LEVEL": "DEBUG",
        },
        log_path=folder / "controller.log",
    )
    try:
        proc.start()
        yield running, proc
    finally:
        proc.stop()
        running.stop()


def _records(proc: ControllerProcess, caller: str) -> list[dict[str, Any]]:
    return [c for c in proc.calls(limit=200) if c["caller"]["number"] == caller]


def _ended(proc: ControllerProcess, caller: str) -> dict[str, Any] | None:
    records = _records(proc, caller)
    return records[0] if records and records[0]["ended_at"] is not None else None


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


async def test_record_of_a_caller_who_hung_up_while_the_controller_was_away_is_closed(
    stack: tuple[TestPbx, ControllerProcess], tmp_path: Path
) -> None:
    running, proc = stack
    placed = asyncio.create_task(
        call(
            running,
            tmp_path,
            service="100",
            caller="0355550001",
            scenario="caller_hangs_up",
            keys={"hangup_ms": "9000"},
            timeout_s=40,
        )
    )
    await until(lambda: bool(_records(proc, "0355550001")), what="call reached the controller")
    proc.kill()
    await placed  # the caller hung up while no controller ran
    hung_up_at = datetime.now(UTC)
    await asyncio.to_thread(proc.start)

    await until(lambda: _ended(proc, "0355550001") is not None, within_s=20, what="orphan closed")
    record = _ended(proc, "0355550001")
    assert record is not None
    assert record["outcome"] == "abandoned"
    assert record["hangup_cause"].startswith("channel gone while the controller was away")
    assert abs((_at(record["ended_at"]) - hung_up_at).total_seconds()) < 4  # the CDR's end, not "now"
    assert len(_records(proc, "0355550001")) == 1


async def test_calls_during_the_outage_hear_the_fallback_and_are_recorded_once(
    stack: tuple[TestPbx, ControllerProcess], tmp_path: Path
) -> None:
    running, proc = stack
    proc.kill()
    away = await asyncio.gather(
        *(call(running, tmp_path, service="100", caller=f"035555010{n}", timeout_s=30) for n in range(2))
    )
    for result in away:
        assert result.ok, result.describe()  # answered with the apology, then Asterisk hung up
    await asyncio.to_thread(proc.start)
    for n in range(2):
        await until(
            lambda n=n: _ended(proc, f"035555010{n}") is not None, within_s=20, what="fallback imported"
        )
    proc.kill()
    await asyncio.to_thread(proc.start)  # a second start reads the CDR again: nothing twice
    await asyncio.sleep(2)
    for n in range(2):
        records = _records(proc, f"035555010{n}")
        assert len(records) == 1, records
        assert records[0]["outcome"] == "failed"
        assert records[0]["hangup_cause"] == "controller away: dialplan fallback"
        assert records[0]["dialed"] == "100"  # kept in the CDR's userfield by the fallback path


async def test_asterisk_restart_closes_lost_calls_and_frees_the_operator(
    stack: tuple[TestPbx, ControllerProcess], tmp_path: Path
) -> None:
    running, proc = stack
    phone = await register(running, "3108", answer_ms=300, talk_ms=60_000)
    await available(proc, "3108")
    talking = asyncio.create_task(
        call(running, tmp_path, service="7705", caller="0355550201", trailing_silence_s=60, timeout_s=70)
    )
    in_flow = asyncio.create_task(
        call(running, tmp_path, service="100", caller="0355550202", lead_silence_s=60, timeout_s=70)
    )
    await until(lambda: agent(proc, "3108")["state"] == "on_call", within_s=20, what="operator talking")
    await until(lambda: bool(_records(proc, "0355550202")), what="second caller in the flow")

    assert running.pbx.pid is not None
    os.kill(running.pbx.pid, signal.SIGKILL)  # Asterisk crashes...
    await running.pbx.stop()
    await running.pbx.start(progress=lambda line: None)  # ...and is started again
    for task in (talking, in_flow):
        task.cancel()
    await asyncio.gather(talking, in_flow, phone.hang_up(), return_exceptions=True)

    await until(lambda: _ended(proc, "0355550201") is not None, within_s=30, what="talking call closed")
    await until(lambda: _ended(proc, "0355550202") is not None, within_s=10, what="flow call closed")
    talked, waited = _ended(proc, "0355550201"), _ended(proc, "0355550202")
    assert talked is not None and waited is not None
    assert (talked["outcome"], talked["hangup_cause"]) == ("completed", "Asterisk restarted")
    # also when the flow's next command reached the restarted Asterisk (404) before the resync
    assert (waited["outcome"], waited["hangup_cause"]) == ("abandoned", "Asterisk restarted")

    await until(lambda: agent(proc, "3108")["state"] != "on_call", within_s=15, what="operator freed")
    phone = await register(running, "3108", answer_ms=300, talk_ms=1000)  # the phone registers again
    await available(proc, "3108")
    started = time.monotonic()
    result = await call(running, tmp_path, service="7705", caller="0355550203", timeout_s=90)
    assert result.ok, result.describe() + "\n" + proc.log_tail(120)
    await until(lambda: _ended(proc, "0355550203") is not None, within_s=10, what="next call recorded")
    record = _ended(proc, "0355550203")
    assert record is not None and record["agent"] == "3108", (record, time.monotonic() - started)
    await phone.hang_up()
