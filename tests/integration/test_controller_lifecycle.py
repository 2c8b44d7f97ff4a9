"""Start-up errors, Asterisk restarts and controller restarts, on the real Asterisk."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.pbx.ports import free_udp_tcp_port
from ivr.testing.stack import ControllerProcess, TestPbx, start_test_pbx
from tests.integration.calls import call, dtmf_values, newest_call

pytestmark = pytest.mark.asterisk


def _serve(env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full = dict(os.environ)
    full["IVR_HTTP_PORT"] = str(free_udp_tcp_port())
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "ivr.cli", "serve"], env=full, capture_output=True, text=True, timeout=timeout
    )


def test_wrong_ari_password_is_one_clear_line(pbx: TestPbx) -> None:
    done = _serve({**pbx.env, "IVR_ARI_PASSWORD": "not-the-password"})
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ivr: error: ARI at ")
    assert "rejected user 'ivr'" in last
    assert "IVR_ARI_PASSWORD" in last
    assert "Traceback" not in done.stderr


def test_unreachable_ari_is_one_clear_line(pbx: TestPbx) -> None:
    port = free_udp_tcp_port()
    done = _serve({**pbx.env, "IVR_ARI_URL": f"http://127.0.0.1:{port}", "IVR_ARI_WAIT_S": "1"})
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ivr: error: cannot reach ARI at http://127.0.0.1:{port}")
    assert "IVR_ARI_URL" in last
    assert "Traceback" not in done.stderr


def test_web_port_in_use_is_one_clear_line(pbx: TestPbx) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = _serve({**pbx.env, "IVR_HTTP_PORT": str(port)})
    assert done.returncode == 2
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ivr: error: cannot listen on http://127.0.0.1:{port}")
    assert "IVR_HTTP_PORT" in last
    assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestPbx, ControllerProcess]]:
    """A separate Asterisk + controller, because these tests restart them."""
    running = start_test_pbx(tmp_path_factory.mktemp("pbx-restart"))
    proc = ControllerProcess(env=dict(running.env), log_path=running.data_dir / "controller.log")
    try:
        proc.start()
        yield running, proc
    finally:
        proc.stop()
        running.stop()


def _wait_health(proc: ControllerProcess, status: int, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    seen = None
    while time.monotonic() < deadline:
        try:
            seen, _ = proc.get("/healthz")
        except OSError:
            seen = None
        if seen == status:
            return
        time.sleep(0.2)
    raise AssertionError(
        f"/healthz never answered {status} within {wait_s}s (last {seen})\n{proc.log_tail()}"
    )


async def test_asterisk_restart_controller_reconnects_and_next_call_works(
    own_stack: tuple[TestPbx, ControllerProcess], tmp_path: Path
) -> None:
    running, proc = own_stack
    await running.pbx.stop()
    _wait_health(proc, 503, 15)
    await running.pbx.start(progress=lambda line: None)
    _wait_health(proc, 200, 30)
    assert proc.proc is not None and proc.proc.poll() is None  # the controller never exited

    result = await call(
        running, tmp_path, service="100", digits="55#", lead_silence_s=5.0, caller="0322220001"
    )
    assert result.ok, result.describe()
    assert dtmf_values(newest_call(proc, caller="0322220001")) == ["55"]


async def test_call_survives_a_controller_restart(
    own_stack: tuple[TestPbx, ControllerProcess], tmp_path: Path
) -> None:
    running, proc = own_stack
    placed = asyncio.create_task(
        call(
            running,
            tmp_path,
            service="100",
            digits="8080#",
            lead_silence_s=12.0,
            caller="0322220002",
            timeout_s=90,
        )
    )
    # Wait until the call is in the store, then kill the controller outright (no clean shutdown).
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if any(c["caller"]["number"] == "0322220002" for c in proc.calls(limit=10)):
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError("the call never reached the controller")
    proc.kill()
    await asyncio.to_thread(proc.start)  # a new controller on the same port, store and Asterisk

    result = await placed
    assert result.ok, result.describe()  # the call was not dropped: the new controller read back and hung up
    record = newest_call(proc, caller="0322220002")
    assert dtmf_values(record) == ["8080"]
    assert record["outcome"] == "completed"
