"""The real Asterisk: instances start on free ports, answer ARI, take SIP calls, stop cleanly."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ivr.ari.client import AriClient
from ivr.pbx import Pbx, free_udp_tcp_port, scratch_pbx
from ivr.pbx.root import mounts_under
from ivr.settings import Settings
from tests.pbx.conftest import asterisk_available

pytestmark = pytest.mark.asterisk

SCENARIO = Path(__file__).parent / "scenarios" / "bench_dialplan_uac.xml"
TEMPLATES = Path(__file__).resolve().parents[2] / "asterisk_conf"


def process_exists(pid: int | None) -> bool:
    return Path(f"/proc/{pid}").exists()


async def ari_get(pbx: Pbx, path: str) -> object:
    c = pbx.config
    async with AriClient(pbx.ari_url, c.ari_user, c.ari_password, c.app) as ari:
        return await ari.request("GET", path)


def sipp_call(pbx: Pbx, service: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("sipp") is None:
        pytest.skip("sipp (Debian sip-tester) is not installed")
    used = {pbx.config.sip_port, pbx.config.ari_port}
    local = free_udp_tcp_port(exclude=used)
    media = free_udp_tcp_port(exclude=used | {local})
    argv = [
        "sipp",
        f"127.0.0.1:{pbx.config.sip_port}",
        "-sf",
        str(SCENARIO),
        "-s",
        service,
        "-m",
        "1",
        "-i",
        "127.0.0.1",
        "-p",
        str(local),
        "-mp",
        str(media),
        "-nostdin",
        "-timeout",
        "40s",
    ]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=pbx.log_dir)


async def test_ari_answers_and_every_listed_module_runs(pbx: Pbx) -> None:
    info = await ari_get(pbx, "/asterisk/info")
    assert isinstance(info, dict) and info["config"]["name"] == pbx.name
    modules = await ari_get(pbx, "/asterisk/modules")
    assert isinstance(modules, list)
    status = {m["name"]: m["status"] for m in modules}
    listed = re.findall(r"^load => (\S+)$", (TEMPLATES / "modules.conf").read_text(), re.M)
    assert [m for m in listed if status.get(m) != "Running"] == []
    assert pbx.log_problems() == []


def test_bench_dialplan_call_reads_the_digits_back(pbx: Pbx) -> None:
    result = sipp_call(pbx, "bench-dialplan")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert any("bench-dialplan read 4" in line for line in pbx.log_lines())


def test_controller_away_caller_hears_apology_and_is_hung_up(pbx: Pbx) -> None:
    result = sipp_call(pbx, "0312345678")  # no Stasis app connected: fallback answers and hangs up
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert any(f"Stasis app '{pbx.config.app}' doesn't exist" in line for line in pbx.log_lines())


async def test_two_instances_run_at_once_and_stop_without_leftovers() -> None:
    reason = asterisk_available()
    if reason:
        pytest.skip(reason)
    settings = Settings.from_env()
    first, second = scratch_pbx(settings, prefix="pair"), scratch_pbx(settings, prefix="pair")
    try:
        await asyncio.gather(first.start(), second.start())
        pids = [first.pid, second.pid]
        assert None not in pids and pids[0] != pids[1]
        infos = await asyncio.gather(ari_get(first, "/asterisk/info"), ari_get(second, "/asterisk/info"))
        assert [i["config"]["name"] for i in infos if isinstance(i, dict)] == [first.name, second.name]
    finally:
        await asyncio.gather(first.stop(), second.stop())
    assert [pid for pid in pids if process_exists(pid)] == []
    assert first.pid is None and second.pid is None
    assert not await first.ari_answers() and not await second.ari_answers()
    if first.chroot is not None:
        assert mounts_under(first.chroot) == []
    first.remove_files()
    second.remove_files()
    assert not first.instance_dir.exists()
