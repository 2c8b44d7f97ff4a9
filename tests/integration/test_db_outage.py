"""The database is unavailable for 30 s under a steady load of calls: callers notice nothing, the
records wait in the write-behind queue (bounded, one clear log line), and when the database returns
every call is written whole — counted against SIPp's successful calls.

The outage is SQLite's honest one: another process holds the write lock (``BEGIN IMMEDIATE``), so every
write of the controller fails with "database is locked" after its busy timeout. Reads go on (WAL mode:
readers never wait for the writer), which is why the controller's reads during a call — none on the
call's path, the adoption lookup at a resync, the API — are not blocked by it. (Renaming or chmod-ing
the file is no outage SQLite recognises: the open connection keeps writing to the old inode.)

Own Asterisk and controller: the 30-s lock would stall the session controller's other tests.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ivr.testing.sipp import caller_pcap, start_sipp
from ivr.testing.stack import ControllerProcess, TestPbx, start_test_pbx
from tests.integration.calls import call, dtmf_values
from tests.integration.phones import available, log_out, register

pytestmark = pytest.mark.asterisk

HERE = Path(__file__).resolve().parent
LOAD_CALLS = 30  # on the digit echo line, one a second: arrivals span the whole outage
ECHO_CALLER = "0333550000"
QUEUE_CALLERS = ("0333550101", "0333550102")  # into a queue, answered by a SIPp operator
OUTAGE_S = 30.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestPbx, ControllerProcess]]:
    running = start_test_pbx(tmp_path_factory.mktemp("pbx-db-outage"))
    site = tmp_path_factory.mktemp("db-outage-site")
    shutil.copy(HERE / "flows" / "acd_lines.yaml", site / "acd_lines.yaml")
    for name in ("agents.yaml", "queues.yaml"):
        shutil.copy(HERE / "acd" / name, site / name)
    proc = ControllerProcess(
        env={
            **running.env,
            "IVR_AGENTS_FILE": str(site / "agents.yaml"),
            "IVR_QUEUES_FILE": str(site / "queues.yaml"),
            "IVR_FLOWS_DIR": str(site),
            "IVR_TTS": "espeak",
            "IVR_ASR": "off",
            "IVR_LOG_LEVEL": "INFO",
        },
        log_path=running.data_dir / "controller.log",
    )
    try:
        proc.start(wait_s=120.0)
        yield running, proc
    finally:
        proc.stop()
        running.stop()
        log = proc.log_text()
        assert "Traceback" not in log, f"controller logged a traceback:\n{proc.log_tail(200)}"


def metrics(proc: ControllerProcess) -> dict[str, float]:
    request = urllib.request.Request(
        proc.base_url + "/metrics", headers={"Authorization": f"Bearer {proc.token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
    return {
        name: float(value)
        for line in text.splitlines()
        if line and not line.startswith("#")
        for name, _, value in [line.rpartition(" ")]
    }


def lines_with(proc: ControllerProcess, needle: str) -> list[str]:
    return [line for line in proc.log_text().splitlines() if needle in line]


async def until(condition: Any, within_s: float, what: str) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within_s:g} s")
        await asyncio.sleep(0.3)


def ended_records(proc: ControllerProcess, callers: set[str]) -> list[dict[str, Any]]:
    return [c for c in proc.calls(200) if c["caller"]["number"] in callers and c["ended_at"] is not None]


async def test_thirty_seconds_without_the_database_under_load_loses_no_call_and_no_record(
    stack: tuple[TestPbx, ControllerProcess], tmp_path: Path
) -> None:
    pbx, proc = stack
    # One call first synthesises the echo line's prompts: the load's timing assumes they play at once.
    warm = await call(pbx, tmp_path, service="100", digits="12#", lead_silence_s=4.0, caller="0333559999")
    assert warm.ok, warm.describe()
    operator = await register(pbx, "3101", answer_ms=500, talk_ms=2000, calls=len(QUEUE_CALLERS))
    try:
        await available(proc, "3101")
        pcap = caller_pcap(tmp_path / "echo.pcap", "12#", lead_silence_s=4.0, trailing_silence_s=8.0)
        load = await start_sipp(
            "caller_waits_bye",
            pbx.sip_target,
            service="100",
            pcap=pcap,
            calls=LOAD_CALLS,
            rate=1.0,
            keys={"caller": ECHO_CALLER, "display": "Load Caller"},
            timeout_s=180,
            recv_timeout_s=60,
        )
        await asyncio.sleep(3.0)  # the first calls are in their flows
        lock = sqlite3.connect(pbx.data_dir / "ivr.db", timeout=10, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # the write lock: every write of the controller now fails
        locked_at = time.monotonic()
        try:
            queued = [
                asyncio.create_task(
                    call(pbx, tmp_path, service="7701", caller=caller, trailing_silence_s=25, timeout_s=90)
                )
                for caller in QUEUE_CALLERS  # the second waits in the queue while the first talks
            ]
            await until(lambda: lines_with(proc, "database unavailable"), 20, "a log line while buffering")
            (warning,) = lines_with(proc, "database unavailable")
            assert "WARNING" in warning and "holding" in warning and "writes and retrying" in warning
            await asyncio.sleep(max(0.0, locked_at + OUTAGE_S / 2 - time.monotonic()))
            during = metrics(proc)
            assert during["ivr_recorder_healthy"] == 0, during
            assert during["ivr_recorder_pending_writes"] > 0, during  # buffered, not lost
            assert not ended_records(proc, {ECHO_CALLER, *QUEUE_CALLERS})  # none reached the store
            await asyncio.sleep(max(0.0, locked_at + OUTAGE_S - time.monotonic()))
        finally:
            lock.execute("ROLLBACK")
            lock.close()

        result = await load.wait()
        assert result.ok and result.successful == LOAD_CALLS, result.describe()
        for task in queued:
            queued_result = await task
            assert queued_result.ok, queued_result.describe()
        assert (await operator.hang_up()).successful == len(QUEUE_CALLERS)
    finally:
        await log_out(proc, pbx, "3101")

    # Every call SIPp completed is in the store, whole, once the database takes writes again.
    await until(
        lambda: len(ended_records(proc, {ECHO_CALLER, *QUEUE_CALLERS})) >= LOAD_CALLS + len(QUEUE_CALLERS),
        60,
        "every record written after the outage",
    )
    records = ended_records(proc, {ECHO_CALLER, *QUEUE_CALLERS})
    echo = [r for r in records if r["caller"]["number"] == ECHO_CALLER]
    assert len(echo) == result.successful == LOAD_CALLS
    for record in echo:
        assert record["outcome"] == "completed", record
        assert record["path"] == ["hello", "digits", "readback", "bye"], record
        assert dtmf_values(record) == ["12"], record
        assert record["answered_at"] is not None, record
    queued_records = [r for r in records if r["caller"]["number"] in QUEUE_CALLERS]
    assert len(queued_records) == len(QUEUE_CALLERS)
    for record in queued_records:
        assert (record["queue"], record["agent"], record["outcome"]) == ("t_returns", "3101", "completed")
        assert record["path"] == ["route", "q_returns", "bye"], record
        assert [o["outcome"] for o in record["offers"]] == ["answered"], record
    after = metrics(proc)
    assert after["ivr_recorder_healthy"] == 1 and after["ivr_recorder_dropped_writes_total"] == 0, after
    assert len(lines_with(proc, "database unavailable")) == 1  # one line per outage, not per write
    assert len(lines_with(proc, "database back after")) == 1
