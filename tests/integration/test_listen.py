"""A supervisor listens in on the real Asterisk: their SIPp phone is rung, answers and receives the
conversation's audio (RTP counted on a UDP socket of the test); when it hangs up, no snoop channel and
no listen bridge is left in Asterisk. Barge joins the conversation's bridge and goes with it."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from ivr.testing.sipp import SippProcess, free_udp_port, run_sipp, start_sipp
from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call, newest_call
from tests.integration.phones import SECRETS, AgentPhone, available, log_out, register, set_state, until
from tests.integration.recorded_line import NUMBER, ari_get, install_flow, live_call, supervisor_scenario

SUPERVISOR = "3108"  # a test operator's phone stands in for the supervisor's softphone


async def _supervisor_phone(pbx: TestPbx, sink_port: int, talk_ms: int) -> tuple[SippProcess, int]:
    port = free_udp_port()
    phone = await start_sipp(
        supervisor_scenario(),
        local_port=port,
        timeout_s=60,
        keys={"answer_ms": "500", "talk_ms": str(talk_ms), "rtp_sink_port": str(sink_port)},
    )
    reg = await run_sipp(
        "register",
        pbx.sip_target,
        service=SUPERVISOR,
        auth=(SUPERVISOR, SECRETS[SUPERVISOR]),
        keys={"contact_host": "127.0.0.1", "contact_port": str(port), "expires": "600"},
        timeout_s=15,
    )
    assert reg.ok, reg.describe()
    return phone, port


async def _count_rtp(sock: socket.socket, seconds: float, *, first_within_s: float = 15.0) -> int:
    """RTP packets received in ``seconds`` from the first one (which may take ``first_within_s`` on a
    loaded machine: the supervisor's phone is rung and answers first)."""
    packets = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + first_within_s
    while loop.time() < deadline:
        try:
            data = sock.recv(2048)
        except BlockingIOError:
            await asyncio.sleep(0.05)
            continue
        if len(data) >= 12 and data[0] >> 6 == 2:
            packets = 1
            break
    if not packets:
        return 0
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        try:
            while True:
                data = sock.recv(2048)
                if len(data) >= 12 and data[0] >> 6 == 2:  # RTP version 2
                    packets += 1
        except BlockingIOError:
            await asyncio.sleep(0.05)
    return packets


def _leftovers(pbx: TestPbx, call_id: str) -> list[str]:
    channels = [c["id"] for c in ari_get(pbx, "/channels")]
    bridges = [b["id"] for b in ari_get(pbx, "/bridges")]
    return [x for x in channels + bridges if "-listen" in x or x.startswith("Snoop") or call_id in x]


@pytest.mark.parametrize("mode", ["listen", "whisper", "barge"])
async def test_supervisor_is_rung_hears_the_call_and_nothing_is_left(
    mode: str, pbx: TestPbx, controller: ControllerProcess, site_flows: Path, tmp_path: Path
) -> None:
    install_flow(controller, site_flows)
    caller_number = f"0312229{10 + ['listen', 'whisper', 'barge'].index(mode)}"
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    operator: AgentPhone | None = await register(pbx, "3109", answer_ms=500, talk_ms=16000)
    supervisor, sup_port = await _supervisor_phone(pbx, sink.getsockname()[1], talk_ms=5000)
    try:
        await available(controller, "3109")
        set_state(controller, SUPERVISOR, "logged_out")  # the phone is the supervisor's, not an operator's
        caller = asyncio.create_task(
            call(pbx, tmp_path, service=NUMBER, caller=caller_number, trailing_silence_s=40, timeout_s=60)
        )
        live = await asyncio.to_thread(live_call, controller, caller_number)
        status, body = controller.post(
            f"/api/calls/{live['id']}/listen", {"mode": mode, "endpoint": f"PJSIP/{SUPERVISOR}"}
        )
        assert status == 201, body
        assert body["id"].startswith(f"leg-{live['id']}-listen")
        received = await _count_rtp(sink, 4.0)
        assert received >= 50, f"the supervisor's phone received {received} RTP packets in 4 s"
        result = await supervisor.wait()
        assert result.ok, result.describe()
        await until(lambda: not _leftovers(pbx, live["id"] + "-listen"), what="snoop and listen bridge gone")
        status, body = controller.post(
            f"/api/calls/{live['id']}/listen", {"mode": mode, "endpoint": "PJSIP/no-such-phone"}
        )
        assert status == 409, body
        assert (await caller).ok
        operator_result, operator = await operator.hang_up(), None
        assert operator_result.successful == 1
    finally:
        sink.close()
        if operator is not None:  # a failure above: free the operator for the next test
            await operator.hang_up()
        await log_out(controller, pbx, "3109")
        await run_sipp(
            "register",
            pbx.sip_target,
            service=SUPERVISOR,
            auth=(SUPERVISOR, SECRETS[SUPERVISOR]),
            keys={"contact_host": "127.0.0.1", "contact_port": str(sup_port), "expires": "0"},
            timeout_s=15,
        )
        set_state(controller, SUPERVISOR, "logged_out")
    record = newest_call(controller, caller=caller_number)
    assert record["agent"] == "3109"
    await until(lambda: not _leftovers(pbx, record["id"]), what="no channel or bridge of the call left")
    status, body = controller.post(
        f"/api/calls/{record['id']}/listen", {"mode": mode, "endpoint": "PJSIP/3109"}
    )
    assert status == 409, body  # no operator any more
