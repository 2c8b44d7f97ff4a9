"""A supervisor picks a live call on the wallboard and listens in: their own SIPp phone is rung and
receives the conversation's audio (RTP packets counted on the port its SDP names)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.async_api", reason="needs the playwright Python package (make deps)")

from playwright.async_api import expect

from ivr.testing.sipp import free_udp_port, run_sipp, start_sipp
from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.browser import ui
from tests.integration.browser.harness import BrowserTest
from tests.integration.browser.scene import (
    ORDERS_AGENT,
    SUPERVISOR_PHONE,
    place_call,
    rtp_sink,
)
from tests.integration.phones import SECRETS, agent, available, log_out, register, unregister, until

pytestmark = pytest.mark.asyncio(loop_scope="session")

CALLER = "0318880401"
SUPERVISOR_ENDPOINT = "3107"  # a test operator's endpoint stands in for the supervisor's softphone
AUDIO_PACKETS = 50  # one second of 20 ms packets


async def test_a_supervisor_listens_to_a_live_call_from_the_wallboard(
    web: BrowserTest, pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    operator = await register(pbx, ORDERS_AGENT, answer_ms=500, talk_ms=20000)
    sink_port, phone_port = free_udp_port(), free_udp_port()
    sink = await rtp_sink(sink_port)
    supervisor = await start_sipp(
        SUPERVISOR_PHONE,
        local_port=phone_port,
        timeout_s=90,
        keys={"answer_ms": "500", "sink_port": str(sink_port)},
    )
    try:
        registered = await run_sipp(
            "register",
            pbx.sip_target,
            service=SUPERVISOR_ENDPOINT,
            auth=(SUPERVISOR_ENDPOINT, SECRETS[SUPERVISOR_ENDPOINT]),
            keys={"contact_host": "127.0.0.1", "contact_port": str(phone_port), "expires": "600"},
            timeout_s=15,
        )
        assert registered.ok, registered.describe()
        await available(controller, ORDERS_AGENT)
        page = await web.signed_in("supervisor")
        await page.goto("/wallboard")

        placed = place_call(pbx, tmp_path, caller=CALLER, wait_s=45)
        await until(lambda: agent(controller, ORDERS_AGENT)["state"] == "on_call", what="talking")
        call_id = agent(controller, ORDERS_AGENT)["current_call"]
        row = page.locator(ui.wallboard_call(call_id))
        await expect(row).to_have_count(1)
        assert sink.packets == 0  # nothing is sent to the supervisor's phone before they listen in

        listen = row.locator(ui.WALLBOARD_LISTEN)
        await page.locator(ui.LISTEN_ENDPOINT).fill(f"PJSIP/{SUPERVISOR_ENDPOINT}")
        await listen.click()
        await expect(page.locator(ui.LISTEN_STATUS)).to_contain_text(SUPERVISOR_ENDPOINT)
        await web.shot(page)

        await until(
            lambda: sink.packets >= AUDIO_PACKETS, within_s=30, what="audio at the supervisor's phone"
        )  # generous: on a loaded 2-core machine ringing, answering and the snoop take seconds

        result = await placed  # the operator hangs up: the listening leg ends with the call
        assert result.ok, result.describe()
        heard = await supervisor.wait()
        assert heard.successful == 1, heard.describe()  # rung, answered, hung up by Asterisk
        await operator.hang_up()
        operator = None
    finally:
        if operator is not None:  # a failure above: free the operator for the next test
            await operator.hang_up()
        sink.close()
        await supervisor.stop()
        await unregister(pbx, SUPERVISOR_ENDPOINT, phone_port)
        await log_out(controller, pbx, ORDERS_AGENT, SUPERVISOR_ENDPOINT)
