"""ivr.testing.sipp: real SIPp-to-SIPp calls on loopback (no Asterisk needed)."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest

from ivr.testing.sipp import (
    SCENARIOS,
    SippError,
    caller_pcap,
    find_sipp,
    free_udp_port,
    quote_display,
    run_sipp,
    run_sipp_sync,
    scenario_path,
    start_sipp,
)

pytestmark = pytest.mark.skipif(shutil.which("sipp") is None, reason="needs sipp (sip-tester) on the PATH")


def test_sipp_is_found_on_the_path_and_a_missing_one_is_a_clear_error(tmp_path: Path) -> None:
    assert Path(find_sipp()).is_file()
    with pytest.raises(SippError, match=r"SIPp not found on the PATH as no-such-sipp: install .*sip-tester"):
        find_sipp("no-such-sipp")
    with pytest.raises(SippError, match=re.escape(f"SIPp not found at {tmp_path / 'sipp'}: install")):
        find_sipp(str(tmp_path / "sipp"))


def test_every_shipped_scenario_exists() -> None:
    for name in SCENARIOS:
        assert scenario_path(name).is_file()
    with pytest.raises(SippError, match="not found"):
        scenario_path("no_such_scenario")


async def test_caller_waits_for_bye_from_answering_phone(tmp_path: Path) -> None:
    pcap = caller_pcap(tmp_path / "digits.pcap", "4271#", lead_silence_s=0.2, trailing_silence_s=0.2)
    port = free_udp_port()
    uas = await start_sipp(
        "uas_answer_bye",
        local_port=port,
        timeout_s=30,
        keys={"answer_ms": "200", "talk_ms": "1500"},
        log_dir=tmp_path / "uas",
    )
    try:
        caller = await run_sipp(
            "caller_waits_bye",
            f"127.0.0.1:{port}",
            service="100",
            pcap=pcap,
            timeout_s=30,
            recv_timeout_s=15,
            keys={"display": quote_display('Ann "A" <x>'), "caller": "0311112222"},
            log_dir=tmp_path / "caller",
        )
        answered = await uas.wait()
    finally:
        await uas.stop()
    assert (caller.successful, caller.failed, caller.returncode) == (1, 0, 0), caller.describe()
    assert (answered.successful, answered.failed) == (1, 0), answered.describe()
    assert caller.ok and not caller.timed_out
    messages = (tmp_path / "caller" / "messages.log").read_text()
    assert 'From: "Ann \\"A\\" <x>" <sip:0311112222@127.0.0.1:' in messages
    assert "a=rtpmap:101 telephone-event/8000" in messages and "a=sendrecv" in messages


async def test_caller_hangs_up_on_answering_phone() -> None:
    port = free_udp_port()
    uas = await start_sipp("uas_answer", local_port=port, timeout_s=30, keys={"answer_ms": "300"})
    try:
        caller = await run_sipp(
            "caller_hangs_up",
            f"127.0.0.1:{port}",
            service="200",
            timeout_s=30,
            recv_timeout_s=15,
            keys={"hangup_ms": "500"},
        )
        answered = await uas.wait()
    finally:
        await uas.stop()
    assert (caller.successful, caller.failed) == (1, 0), caller.describe()
    assert (answered.successful, answered.failed) == (1, 0), answered.describe()
    assert caller.stats["SuccessfulCall(C)"] == "1"


async def test_several_calls_with_a_concurrency_limit() -> None:
    port = free_udp_port()
    uas = await start_sipp("uas_answer", local_port=port, calls=4, timeout_s=40, keys={"answer_ms": "0"})
    try:
        caller = await run_sipp(
            "caller_hangs_up",
            f"127.0.0.1:{port}",
            calls=4,
            rate=10,
            limit=2,
            timeout_s=40,
            recv_timeout_s=15,
            keys={"hangup_ms": "300"},
        )
        answered = await uas.wait()
    finally:
        await uas.stop()
    assert (caller.successful, caller.failed) == (4, 0), caller.describe()
    assert answered.successful == 4, answered.describe()


async def test_bogus_target_fails_within_the_timeout() -> None:
    nobody = f"127.0.0.1:{free_udp_port()}"
    result = await asyncio.wait_for(
        run_sipp("caller_waits_bye", nobody, timeout_s=5, recv_timeout_s=2), timeout=20
    )
    assert result.failed >= 1 and result.returncode != 0, result.describe()
    assert result.successful == 0 and not result.ok


async def test_global_timeout_is_a_failure() -> None:
    result = await run_sipp("caller_waits_bye", f"127.0.0.1:{free_udp_port()}", timeout_s=2)
    assert result.returncode != 0 and result.timed_out and not result.ok, result.describe()
    assert result.open_calls == 1


async def test_cancelling_stops_sipp(tmp_path: Path) -> None:
    uas = await start_sipp("uas_answer", timeout_s=60, log_dir=tmp_path)
    task = asyncio.ensure_future(uas.wait())
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not uas.running


def test_bad_keyword_values_are_rejected() -> None:
    with pytest.raises(SippError, match="CR, LF"):
        run_sipp_sync("caller_waits_bye", "127.0.0.1:9", keys={"display": "a\r\nVia: evil"})
    with pytest.raises(SippError, match="identifier"):
        run_sipp_sync("caller_waits_bye", "127.0.0.1:9", keys={"bad key": "x"})


@pytest.mark.parametrize(("password", "registered"), [("secret", True), ("wrong", False)])
async def test_register_answers_the_digest_challenge(tmp_path: Path, password: str, registered: bool) -> None:
    port = free_udp_port()
    registrar = await start_sipp(Path(__file__).with_name("registrar.xml"), local_port=port, timeout_s=20)
    try:
        agent = await run_sipp(
            "register",
            f"127.0.0.1:{port}",
            service="agent1",
            timeout_s=20,
            recv_timeout_s=5,
            auth=("agent1", password),
            keys={"contact_port": "5099"},
            log_dir=tmp_path,
        )
    finally:
        await registrar.stop()
    assert (agent.successful == 1) is registered, agent.describe()
    messages = (tmp_path / "messages.log").read_text()
    assert "Authorization: Digest" in messages and 'username="agent1"' in messages
    assert "Contact: <sip:agent1@127.0.0.1:5099>" in messages
