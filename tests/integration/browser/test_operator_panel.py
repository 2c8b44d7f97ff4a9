"""An operator signs in to their own panel, pauses with a reason and comes back, with a real phone."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("playwright.async_api", reason="needs the playwright Python package (make deps)")

from playwright.async_api import expect

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.browser import ui
from tests.integration.browser.harness import BrowserTest
from tests.integration.browser.scene import ORDERS_AGENT, path_of
from tests.integration.phones import agent, available, log_out, register, until

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_an_operator_pauses_with_a_reason_and_unpauses_from_the_panel(
    web: BrowserTest, pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    phone = await register(pbx, ORDERS_AGENT, answer_ms=500)
    try:
        await available(controller, ORDERS_AGENT)
        page = await web.signed_in("agent")  # the user linked to operator 3102
        assert path_of(page.url) == "/agent"  # an operator's home is their panel
        state = page.locator(ui.PANEL_STATE)
        await expect(state).to_have_attribute("data-state", "available")

        await page.select_option(ui.PANEL_REASON, "lunch")
        await page.click(ui.PANEL_PAUSE)
        await expect(state).to_have_attribute("data-state", "paused")
        await expect(page.locator(ui.PANEL_REASON_SHOWN)).to_contain_text("lunch")
        row = agent(controller, ORDERS_AGENT)
        assert (row["state"], row["reason"]) == ("paused", "lunch")
        await web.shot(page)

        await page.click(ui.PANEL_AVAILABLE)
        await expect(state).to_have_attribute("data-state", "available")
        await until(lambda: agent(controller, ORDERS_AGENT)["state"] == "available", what="available again")

        response = await page.goto("/wallboard")  # not an operator's page
        assert response is not None
        assert response.status == 403 or path_of(page.url) != "/wallboard", response.status
        await phone.hang_up()
    finally:
        await log_out(controller, pbx, ORDERS_AGENT)
