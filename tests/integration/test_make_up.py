"""``make up`` (``ivr up``) as a user runs it, with callers mid-flow: its controller is killed, ``ivr up``
itself is killed, and it is asked to stop (SIGTERM). One ``ivr up`` stack for the module, on private ports;
the tests run in order and the last one stops it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ivr.calls.manager import DRAINING_CAUSE
from ivr.pbx.ports import free_udp_range, free_udp_tcp_port
from ivr.settings import Settings
from ivr.testing.rtp_pcap import Dtmf, Silence, write_pcap
from ivr.testing.sipp import SippResult, run_sipp
from ivr.testing.stack import ControllerProcess
from tests.integration.calls import dtmf_values, newest_call

pytestmark = pytest.mark.asterisk

HOLD_NUMBER = "7731"
HOLD_FLOW = f"""\
name: hold_line
description: Like the echo line, but waits up to 90 s for the digits (callers who take their time).
languages: [en]
default_language: en
numbers: ["{HOLD_NUMBER}"]
entry: hello
nodes:
  hello:
    type: say
    prompt: Hello.
    next: digits
  digits:
    type: collect
    prompt: {{file: beep}}
    var: digits
    max_length: 8
    terminator: "#"
    timeout: 90
    inter_digit_timeout: 5
    retries: 0
    next: readback
    on_failure: bye
  readback:
    type: say
    prompt: You entered
    digits: "{{digits}}"
    next: bye
  bye:
    type: hangup
    prompt: Goodbye.
    outcome: completed
"""
ADOPTION_LIMIT_S = 5.0
"""Kill of the controller → the call adopted by its replacement (the target is < 2 s)."""
DRAIN_S = 45


def _pids(match: bytes, *, parent: int | None = None) -> list[int]:
    """Live processes whose command line contains ``match`` (and whose parent is ``parent``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if match in cmdline and stat[0] != "Z" and (parent is None or int(stat[1]) == parent):
            found.append(int(entry.name))
    return found


@dataclass
class UpStack:
    """``ivr up`` as a subprocess; ``api`` reads the controller's web API (no process of its own)."""

    env: dict[str, str]
    log_path: Path
    name: str
    proc: subprocess.Popen[bytes] | None = None
    api: ControllerProcess = field(init=False)
    spawned: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.api = ControllerProcess(
            env=self.env,
            log_path=self.log_path,
            http_port=int(self.env["IVR_HTTP_PORT"]),
            token=self.env["IVR_ADMIN_TOKEN"],
        )

    @property
    def sip_target(self) -> str:
        return f"127.0.0.1:{self.env['IVR_SIP_PORT']}"

    def start(self, wait_s: float = 180.0) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ivr.cli", "up"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.spawned.append(self.proc.pid)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"ivr up exited {self.proc.returncode}:\n{self.log()[-4000:]}"
            try:
                if self.api.get("/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"ivr up not healthy after {wait_s} s:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def child_pid(self) -> int:
        assert self.proc is not None
        children = _pids(b"serve", parent=self.proc.pid)
        assert len(children) == 1, f"controller children of ivr up: {children}"
        self.spawned.append(children[0])
        return children[0]

    def asterisk_pids(self) -> list[int]:
        return _pids(f"/{self.name}/etc/asterisk.conf".encode())

    async def wait_log(self, text: str, *, after: int, wait_s: float) -> float:
        """Poll the log (every 20 ms) until ``text`` appears past offset ``after``; when it was seen."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if text in self.log()[after:]:
                return time.monotonic()
            await asyncio.sleep(0.02)
        raise AssertionError(f"{text!r} not logged within {wait_s} s:\n{self.log()[after:][-4000:]}")

    async def wait_gone(self, pid: int, *, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        while pid in _pids(b"ivr.cli"):
            assert time.monotonic() < deadline, f"process {pid} still alive after {wait_s} s"
            await asyncio.sleep(0.05)

    def teardown(self) -> None:
        for pid in self.spawned:  # only what we started (ivr up and its controllers), by pid
            if pid in _pids(b"ivr.cli"):
                os.kill(pid, signal.SIGKILL)
        for pid in self.asterisk_pids():  # only ours, by the instance's own config path
            os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpStack]:
    tmp = tmp_path_factory.mktemp("make-up")
    name = f"mu{os.getpid()}"
    sip, ari, http = free_udp_tcp_port(), free_udp_tcp_port(), free_udp_tcp_port()
    rtp_start, rtp_end = free_udp_range(200)
    (tmp / "data" / "flows").mkdir(parents=True)
    (tmp / "data" / "flows" / "hold_line.yaml").write_text(HOLD_FLOW)
    env = dict(os.environ)
    env.update(
        {
            "IVR_DATA_DIR": str(tmp / "data"),
            "IVR_RECORDINGS_DIR": str(tmp / "recordings"),
            "IVR_PBX_NAME": name,
            "IVR_SIP_PORT": str(sip),
            "IVR_ARI_PORT": str(ari),
            "IVR_ARI_URL": f"http://127.0.0.1:{ari}",
            "IVR_HTTP_PORT": str(http),
            "IVR_RTP_START": str(rtp_start),
            "IVR_RTP_END": str(rtp_end),
            "IVR_ADMIN_TOKEN": "make-up-test-token",
            "IVR_DRAIN_S": str(DRAIN_S),
            "PYTHONUNBUFFERED": "1",
        }
    )
    stack = UpStack(env=env, log_path=tmp / "up.log", name=name)
    stack.start()
    try:
        yield stack
    finally:
        if stack.proc is not None and stack.proc.poll() is None:
            stack.proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                stack.proc.wait(40)
        stack.teardown()
        shutil.rmtree(Settings.from_env().pbx_root / "srv" / "ivr" / name, ignore_errors=True)


async def _hold_call(
    up: UpStack,
    tmp: Path,
    *,
    caller: str,
    digits: str,
    lead_s: float,
    repeats: int = 1,
    every_s: float = 12.0,
) -> SippResult:
    """A caller on the hold line who keys ``digits`` after ``lead_s`` of silence and waits for the BYE.
    With ``repeats`` the caller keys them again every ``every_s`` (keys sent while no controller runs are
    lost, as a caller's would be: the caller tries again) — the call ends at the first read-back."""
    segments: list[Silence | Dtmf] = [Silence(lead_s)]
    for n in range(repeats if digits else 0):
        segments += [Dtmf(digits)] if n == 0 else [Silence(every_s), Dtmf(digits)]
    segments.append(Silence(10.0))
    pcap = write_pcap(tmp / f"caller-{caller}.pcap", segments)
    talk_s = lead_s + repeats * every_s
    return await run_sipp(
        "caller_waits_bye",
        up.sip_target,
        service=HOLD_NUMBER,
        pcap=pcap,
        keys={"caller": caller, "display": "Make Up"},
        timeout_s=talk_s + 40,
        recv_timeout_s=talk_s + 35,
    )


async def _in_flow(up: UpStack, caller: str, node: str = "digits", wait_s: float = 30) -> str:
    """The call id once the caller's call is at ``node`` (read from the API)."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        for record in await asyncio.to_thread(up.api.calls, 20):
            if record["caller"]["number"] == caller and node in record["path"]:
                return str(record["id"])
        await asyncio.sleep(0.2)
    raise AssertionError(f"the call from {caller} never reached {node}:\n{up.log()[-3000:]}")


async def test_killed_controller_is_restarted_and_adopts_the_call(up: UpStack, tmp_path: Path) -> None:
    placed = asyncio.create_task(
        _hold_call(up, tmp_path, caller="0344440001", digits="4271#", lead_s=8.0, repeats=5)
    )
    call_id = await _in_flow(up, "0344440001")
    child = up.child_pid()
    mark = len(up.log())
    killed_at = time.monotonic()
    os.kill(child, signal.SIGKILL)  # as an OOM kill or a crash would
    adopted_at = await up.wait_log(f"resync: adopted call {call_id}", after=mark, wait_s=60)
    adoption_s = adopted_at - killed_at
    print(f"controller SIGKILLed → call adopted by its replacement in {adoption_s:.2f} s")
    assert f"controller (pid {child}) killed by SIGKILL" in up.log()[mark:]
    assert up.child_pid() != child

    result = await placed
    assert result.ok, result.describe()  # the caller heard the read-back and the IVR's BYE
    record = newest_call(up.api, caller="0344440001", wait_s=20)
    assert record["id"] == call_id
    assert dtmf_values(record) == ["4271"]
    assert record["outcome"] == "completed"
    assert "readback" in record["path"]
    assert adoption_s < ADOPTION_LIMIT_S, f"adoption took {adoption_s:.2f} s"


async def test_killed_ivr_up_leaves_asterisk_and_a_second_one_adopts_it(up: UpStack, tmp_path: Path) -> None:
    placed = asyncio.create_task(
        _hold_call(up, tmp_path, caller="0344440002", digits="5150#", lead_s=8.0, repeats=6)
    )
    call_id = await _in_flow(up, "0344440002")
    assert up.proc is not None
    supervisor, child = up.proc.pid, up.child_pid()
    asterisk = up.asterisk_pids()
    os.kill(supervisor, signal.SIGKILL)
    up.proc.wait(5)
    await up.wait_gone(child, wait_s=5)  # PR_SET_PDEATHSIG: the controller dies with ivr up
    assert up.asterisk_pids() == asterisk and asterisk, "Asterisk did not stay up"

    mark = len(up.log())
    await asyncio.to_thread(up.start)  # a second `make up`, same settings
    second = up.log()[mark:]
    assert "already running" not in second
    assert f"still runs (pid {asterisk[0]}): adopting it and its calls" in second
    await up.wait_log(f"resync: adopted call {call_id}", after=mark, wait_s=30)
    assert up.asterisk_pids() == asterisk  # the same Asterisk, not a new one

    result = await placed
    assert result.ok, result.describe()
    record = newest_call(up.api, caller="0344440002", wait_s=20)
    assert record["id"] == call_id
    assert dtmf_values(record) == ["5150"]
    assert record["outcome"] == "completed"


async def test_sigterm_drains_calls_in_progress_and_sends_new_ones_to_the_fallback(
    up: UpStack, tmp_path: Path
) -> None:
    assert up.proc is not None and up.proc.poll() is None
    in_progress = asyncio.create_task(
        _hold_call(up, tmp_path, caller="0344440003", digits="31#", lead_s=12.0)
    )
    await _in_flow(up, "0344440003")
    mark = len(up.log())
    up.proc.send_signal(signal.SIGTERM)
    await up.wait_log("draining: no new calls", after=mark, wait_s=15)

    newcomer = await _hold_call(up, tmp_path, caller="0344440004", digits="", lead_s=1.0)
    assert newcomer.ok, newcomer.describe()  # answered by the dialplan's apology, then Asterisk's BYE
    assert not in_progress.done(), "the call in progress ended before the newcomer was turned away"

    result = await in_progress
    assert result.ok, result.describe()  # the call in progress went on to its read-back and BYE
    assert await asyncio.to_thread(up.proc.wait, DRAIN_S + 30) == 0
    assert "drained: no call left" in up.log()[mark:]
    assert up.asterisk_pids() == []

    db = sqlite3.connect(Path(up.env["IVR_DATA_DIR"]) / "ivr.db")
    try:
        rows = dict(
            (number, (outcome, cause, ended))
            for number, outcome, cause, ended in db.execute(
                "SELECT caller_number, outcome, hangup_cause, ended_at FROM calls "
                "WHERE caller_number IN ('0344440003', '0344440004')"
            )
        )
        path = [
            node
            for (node,) in db.execute(
                "SELECT node_id FROM call_path JOIN calls ON calls.id = call_path.call_id "
                "WHERE calls.caller_number = '0344440003' ORDER BY call_path.at"
            )
        ]
    finally:
        db.close()
    assert rows["0344440003"][0] == "completed" and rows["0344440003"][2] is not None
    assert "readback" in path  # heard whole: the read-back and goodbye, not cut at the drain
    assert rows["0344440004"][:2] == ("failed", DRAINING_CAUSE)
    assert rows["0344440004"][2] is not None
