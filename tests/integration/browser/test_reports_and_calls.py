"""Reports and calls after a real answered call: the report's chart and figures change; the call is
found in the calls list and its timeline shows the flow path and the operator's offer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright.async_api", reason="needs the playwright Python package (make deps)")

from playwright.async_api import Page, expect

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.browser import ui
from tests.integration.browser.harness import BrowserTest
from tests.integration.browser.scene import place_call
from tests.integration.calls import newest_call
from tests.integration.phones import available, log_out, register

pytestmark = pytest.mark.asyncio(loop_scope="session")

SOLO_LINE, SOLO_QUEUE, SOLO_AGENT = "7705", "t_solo", "3108"


async def _answered_call(pbx: TestPbx, controller: ControllerProcess, tmp_path: Path, caller: str) -> str:
    """A caller on the solo line, answered by operator 3108 after two seconds: the call's id."""
    phone = await register(pbx, SOLO_AGENT, answer_ms=2000, talk_ms=1500)
    try:
        await available(controller, SOLO_AGENT)
        result = await place_call(pbx, tmp_path, caller=caller, service=SOLO_LINE, wait_s=25)
        assert result.ok, result.describe()
        assert (await phone.hang_up()).successful == 1
    finally:
        await log_out(controller, pbx, SOLO_AGENT)
    record = newest_call(controller, caller=caller)
    assert (record["queue"], record["agent"]) == (SOLO_QUEUE, SOLO_AGENT), record
    return str(record["id"])


async def _report(page: Page) -> tuple[int, int]:
    """Show today's report of the solo queue: (calls offered, calls in the rings-to-answer bars)."""
    await page.click(ui.REPORT_SHOW)
    await expect(page.locator(ui.REPORT_LOADED)).to_have_count(1)
    offered = await page.locator(ui.REPORT_STATUS).get_attribute("data-offered")
    bars = await page.locator(ui.REPORT_RING_BARS).evaluate_all(
        "bars => bars.reduce((sum, bar) => sum + Number(bar.dataset.value || 0), 0)"
    )
    return int(offered or 0), int(bars)


async def test_the_report_chart_changes_after_an_answered_call(
    web: BrowserTest, pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    page = await web.signed_in("supervisor")
    await page.goto("/reports")
    await page.select_option(ui.REPORT_QUEUE, SOLO_QUEUE)
    offered, answered_bars = await _report(page)
    await web.shot(page, "before")

    await _answered_call(pbx, controller, tmp_path, "0318880301")
    deadline = time.monotonic() + 15
    while True:  # the report is read from the store, written behind the call
        after = await _report(page)
        if after[0] != offered or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert after == (offered + 1, answered_bars + 1), (offered, answered_bars, after)
    await expect(page.locator(ui.REPORT_RING_BARS).first).to_be_visible()
    await web.shot(page, readme="report.png")


async def test_a_call_is_found_in_the_list_and_its_timeline_shows_path_and_offer(
    web: BrowserTest, pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    caller = "0318880302"
    call_id = await _answered_call(pbx, controller, tmp_path, caller)
    page = await web.signed_in("supervisor")
    await page.goto("/calls")
    await expect(page.locator(ui.CALLS_LOADED)).to_have_count(1)  # the first list (the form is filled)
    await page.locator(ui.CALLS_NUMBER).fill(caller)
    await page.click(ui.CALLS_SEARCH)
    await expect(page.locator(ui.CALLS_LOADED)).to_have_attribute("data-count", "1")  # only that number's
    await expect(page.locator(f"{ui.CALLS_LIST} tbody tr")).to_have_count(1)
    row = page.locator(ui.calls_row(call_id))
    await expect(row).to_contain_text(SOLO_AGENT)
    await web.shot(page, "list")

    await row.locator("a").first.click()
    await page.wait_for_url(f"**/calls/{call_id}")
    path = page.locator(ui.CALL_PATH_ROWS)
    await expect(path).to_have_count(3)
    assert await path.evaluate_all("rows => rows.map(r => r.dataset.node)") == ["route", "q_solo", "bye"]
    await expect(page.locator(ui.call_offer(SOLO_AGENT))).to_contain_text("answered")
    await expect(page.locator(ui.CALL_TIMELINE)).to_contain_text(f"Agent {SOLO_AGENT} answered")
    await expect(page.locator(ui.CALL_CALLER)).to_contain_text(caller)
    await web.shot(page, readme="call-timeline.png")
