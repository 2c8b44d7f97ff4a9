"""A caller whose display name is markup: every page shows it as text, nothing in it runs."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.async_api", reason="needs the playwright Python package (make deps)")

from playwright.async_api import Page, expect

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.browser import ui
from tests.integration.browser.harness import BrowserTest
from tests.integration.browser.scene import ORDERS_AGENT, place_call, queued
from tests.integration.calls import newest_call
from tests.integration.phones import available, log_out, register, set_state

pytestmark = pytest.mark.asyncio(loop_scope="session")

CALLER = "0318880201"
# No double quote: the scenarios put the name inside "..." of the From header.
HOSTILE = "<script>window.__pwned=1;alert(1)</script><img src=x onerror=alert(2)> & Co"


async def _shows_as_text(page: Page, where: str) -> None:
    await expect(page.locator(where).get_by_text(HOSTILE, exact=False).first).to_be_visible()
    assert await page.locator("img[src=x]").count() == 0  # no element was made from the name
    assert await page.evaluate("window.__pwned === undefined")


async def test_a_caller_name_with_markup_is_text_on_the_wallboard_calls_list_and_timeline(
    web: BrowserTest, pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    phone = await register(pbx, ORDERS_AGENT, answer_ms=500, talk_ms=2000)
    try:
        await available(controller, ORDERS_AGENT)
        set_state(controller, ORDERS_AGENT, "paused", "meeting")  # the caller waits: on the wallboard
        page = await web.signed_in("supervisor")
        await page.goto("/wallboard")
        placed = place_call(pbx, tmp_path, caller=CALLER, display=HOSTILE)
        call_id = await queued(controller, CALLER)
        await _shows_as_text(page, ui.wallboard_call(call_id))
        await web.shot(page, "wallboard")

        set_state(controller, ORDERS_AGENT, "available")
        result = await placed
        assert result.ok, result.describe()
        assert newest_call(controller, caller=CALLER)["caller"]["name"] == HOSTILE

        await page.goto("/calls")
        await _shows_as_text(page, ui.CALLS_LIST)
        await web.shot(page, "calls")
        await page.goto(f"/calls/{call_id}")
        await _shows_as_text(page, ui.CALL_CALLER)
        await web.shot(page, "call")
        await phone.hang_up()
    finally:
        await log_out(controller, pbx, ORDERS_AGENT)
