"""The flow editor: a broken edit is shown at its line and publishes nothing; the fixed edit is published
and the next real call follows it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright.async_api", reason="needs the playwright Python package (make deps)")

from playwright.async_api import expect

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.browser import ui
from tests.integration.browser.harness import BrowserTest
from tests.integration.calls import call_keys, newest_call, wait_for_flows

pytestmark = pytest.mark.asyncio(loop_scope="session")

FLOW = "br_edit"
NUMBER = "7011"
VERSION_A = f"""# Browser test flow: greet, hang up.
name: {FLOW}
languages: [en]
default_language: en
numbers: ["{NUMBER}"]
entry: greet
nodes:
  greet:
    type: say
    prompt: Version A.
    next: bye
  bye:
    type: hangup
    outcome: completed
"""
VERSION_B = VERSION_A.replace("Version A.", "Version B.").replace(
    "    next: bye\n  bye:", "    next: detour\n  detour:\n    type: goto\n    target: bye\n  bye:"
)
BAD_TARGET = "    target: nowhere\n"
BROKEN = VERSION_B.replace("    target: bye\n", BAD_TARGET)
BAD_LINE = BROKEN.splitlines().index(BAD_TARGET.rstrip("\n")) + 1
RELOAD_S = 5.0


def _flow(body: dict[str, Any]) -> dict[str, Any] | None:
    return next((f for f in body["flows"] if f["name"] == FLOW), None)


@pytest.fixture
def flow_file(site_flows: Path, controller: ControllerProcess) -> Iterator[Path]:
    """Our own site flow, version A, live on its number; removed afterwards."""
    path = site_flows / f"{FLOW}.yaml"
    path.write_text(VERSION_A)
    wait_for_flows(controller, lambda b: _flow(b) is not None, wait_s=RELOAD_S, what=f"{FLOW} loaded")
    yield path
    path.unlink(missing_ok=True)
    wait_for_flows(controller, lambda b: _flow(b) is None, wait_s=RELOAD_S, what=f"{FLOW} removed")


async def _path_of_a_call(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path, caller: str
) -> list[str]:
    result = await call_keys(pbx, tmp_path, service=NUMBER, groups=[], caller=caller, trailing_silence_s=10.0)
    assert result.ok, result.describe()
    record = newest_call(controller, caller=caller)
    assert record["flow"] == FLOW
    return list(record["path"])


async def test_a_broken_edit_is_shown_at_its_line_and_the_fixed_one_is_followed_by_the_next_call(
    web: BrowserTest, pbx: TestPbx, controller: ControllerProcess, flow_file: Path, tmp_path: Path
) -> None:
    assert VERSION_B != VERSION_A and BAD_TARGET in BROKEN
    status, published = controller.get(f"/api/flows/{FLOW}")
    assert status == 200, published
    page = await web.signed_in("admin")
    await page.goto(f"/flows/{FLOW}")
    editor = page.locator(ui.FLOW_EDITOR)
    await expect(editor).to_have_value(VERSION_A)

    await editor.fill(BROKEN)
    await page.click(ui.FLOW_PUBLISH)
    await expect(page.locator(ui.flow_problem_at(BAD_LINE))).to_contain_text("nowhere")
    await expect(page.locator(ui.flow_mark_at(BAD_LINE))).to_contain_text("nowhere")
    await expect(page.locator(ui.FLOW_RESULT)).to_contain_text("Not published")
    await web.shot(page, "error")
    assert controller.get(f"/api/flows/{FLOW}") == (status, published)  # nothing published
    assert _text(flow_file) == VERSION_A  # the file the controller loads is untouched
    assert await _path_of_a_call(pbx, controller, tmp_path, "0318880101") == ["greet", "bye"]

    await editor.fill(VERSION_B)
    await page.click(ui.FLOW_PUBLISH)
    await expect(page.locator(ui.FLOW_RESULT)).to_contain_text("Published as v")
    await expect(page.locator(ui.FLOW_PROBLEMS)).to_have_count(0)
    wait_for_flows(
        controller,
        lambda b: (f := _flow(b)) is not None and f["version"] != _flow_version(published),
        wait_s=RELOAD_S,
        what="the published version live",
    )
    await web.shot(page)
    assert await _path_of_a_call(pbx, controller, tmp_path, "0318880102") == ["greet", "detour", "bye"]
    status, versions = controller.get(f"/api/flows/{FLOW}/versions")
    assert status == 200, versions
    assert [v["author"] for v in versions][:1] == ["admin"], versions  # newest first: who published


def _text(path: Path) -> str:
    return path.read_text()


def _flow_version(body: dict[str, Any]) -> Any:
    return body.get("version")
