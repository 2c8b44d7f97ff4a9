"""The wallboard follows a real call live (WebSocket, no reload): queued, answered by a SIPp operator,
gone."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.async_api", reason="needs the playwright Python package (make deps)")

from playwright.async_api import expect

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.browser import ui
from tests.integration.browser.harness import BrowserTest
from tests.integration.browser.scene import (
    ORDERS_AGENT,
    ORDERS_QUEUE,
    place_call,
    queued,
)
from tests.integration.calls import newest_call
from tests.integration.phones import available, log_out, register, set_state

pytestmark = pytest.mark.asyncio(loop_scope="session")

CALLER = "0318880001"


async def test_a_call_appears_is_answered_and_leaves_without_a_reload(
    web: BrowserTest, pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    phone = await register(pbx, ORDERS_AGENT, answer_ms=1500, talk_ms=6000)
    try:
        await available(controller, ORDERS_AGENT)
        set_state(controller, ORDERS_AGENT, "paused", "meeting")  # nobody free: the caller waits in line
        page = await web.signed_in("supervisor")
        await page.goto("/wallboard")
        await expect(page.locator(ui.WALLBOARD_LIVE)).to_have_count(1)
        agent_row = page.locator(ui.wallboard_agent(ORDERS_AGENT))
        await expect(agent_row).to_have_attribute("data-state", "paused")
        await page.evaluate("window.__sameDocument = true")  # gone if the page reloads

        placed = place_call(pbx, tmp_path, caller=CALLER, display="Wallboard Caller")
        call_id = await queued(controller, CALLER)
        call_row = page.locator(ui.wallboard_call(call_id))
        await expect(call_row).to_have_count(1)
        await expect(call_row).to_contain_text(CALLER)
        await expect(page.locator(ui.wallboard_queue(ORDERS_QUEUE))).to_have_attribute("data-waiting", "1")
        await web.shot(page, "waiting")

        set_state(controller, ORDERS_AGENT, "available")  # the operator's phone rings and answers
        await expect(agent_row).to_have_attribute("data-state", "on_call")
        await expect(call_row).to_contain_text(ORDERS_AGENT)
        await expect(page.locator(ui.wallboard_queue(ORDERS_QUEUE))).to_have_attribute("data-waiting", "0")
        await web.shot(page, readme="wallboard.png")

        result = await placed  # the operator hangs up, the IVR says goodbye
        assert result.ok, result.describe()
        await expect(call_row).to_have_count(0)
        await expect(agent_row).not_to_have_attribute("data-state", "on_call")
        assert await page.evaluate("window.__sameDocument === true"), "the wallboard reloaded"
        sockets = [s for s in web.log.sockets if ui.WALLBOARD_SOCKET in s.url]
        assert sockets and sockets[-1].frames >= 3, (
            web.log.sockets
        )  # the changes came over this page's socket
        assert newest_call(controller, caller=CALLER)["agent"] == ORDERS_AGENT
        assert (await phone.hang_up()).successful == 1
    finally:
        await log_out(controller, pbx, ORDERS_AGENT)
