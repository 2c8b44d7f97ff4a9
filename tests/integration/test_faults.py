"""Faults around a live system: a database that stops taking writes mid-call, Ctrl-C on ``ivr up``."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ivr.pbx.ports import free_udp_range, free_udp_tcp_port
from ivr.settings import Settings
from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call, dtmf_values, newest_call

pytestmark = pytest.mark.asterisk


async def test_calls_go_on_while_the_database_refuses_writes_and_no_record_is_lost(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    db = sqlite3.connect(pbx.data_dir / "ivr.db", timeout=1, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")  # holds the write lock: every write of the controller now fails
    try:
        results = await asyncio.gather(
            *(
                call(pbx, tmp_path, service="100", digits=digits, lead_silence_s=5.0, caller=caller)
                for caller, digits in (("0333339001", "31#"), ("0333339002", "42#"))
            )
        )
        for result in results:
            assert result.ok, result.describe()  # the callers noticed nothing: greeting, read-back, BYE
        assert not any(c["caller"]["number"] in {"0333339001", "0333339002"} for c in controller.calls(100))
    finally:
        db.execute("ROLLBACK")
        db.close()
    # Once the database takes writes again, both records arrive whole and in order.
    first = newest_call(controller, caller="0333339001", wait_s=30)
    second = newest_call(controller, caller="0333339002", wait_s=30)
    assert dtmf_values(first) == ["31"] and dtmf_values(second) == ["42"]
    for record in (first, second):
        assert record["path"] == ["hello", "digits", "readback", "bye"]
        assert record["outcome"] == "completed"
        assert record["answered_at"] is not None


def _asterisk_pids_for(instance: str) -> list[int]:
    marker = f"/srv/ivr/{instance}/etc/asterisk.conf".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_ivr_up_runs_everything_and_ctrl_c_stops_it_all(tmp_path: Path) -> None:
    name = f"up{os.getpid()}"
    sip, ari, http = free_udp_tcp_port(), free_udp_tcp_port(), free_udp_tcp_port()
    rtp_start, rtp_end = free_udp_range(200)
    env = dict(os.environ)
    env.update(
        {
            "IVR_DATA_DIR": str(tmp_path / "data"),
            "IVR_PBX_NAME": name,
            "IVR_SIP_PORT": str(sip),
            "IVR_ARI_PORT": str(ari),
            "IVR_ARI_URL": f"http://127.0.0.1:{ari}",
            "IVR_HTTP_PORT": str(http),
            "IVR_RTP_START": str(rtp_start),
            "IVR_RTP_END": str(rtp_end),
        }
    )
    env.pop("IVR_ADMIN_TOKEN", None)
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivr.cli", "up"], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        banner = ""
        while time.monotonic() < deadline and "Ctrl-C stops everything" not in banner:
            assert proc.poll() is None, (tmp_path / "up.log").read_text()
            time.sleep(0.3)
            banner = (tmp_path / "up.log").read_text()
        assert "Ctrl-C stops everything" in banner, banner
        token = (tmp_path / "data" / "admin_token").read_text().strip()
        # The banner goes to a pipe here, not a terminal: it says where the token is kept, not the token.
        assert token not in banner and "secrets hidden" in banner
        assert str(tmp_path / "data" / "admin_token") in banner
        assert _asterisk_pids_for(name), "ivr up did not start its Asterisk"
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert proc.wait(30) == 0
        assert _asterisk_pids_for(name) == []  # Asterisk stopped with it
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for pid in _asterisk_pids_for(name):  # only ours, by the instance's own config path
            os.kill(pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(Settings.from_env().pbx_root / "srv" / "ivr" / name, ignore_errors=True)
