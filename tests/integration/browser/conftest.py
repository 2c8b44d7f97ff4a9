"""Browser tests: Playwright (async API) drives Debian's Chromium headless against the session's controller.

One Chromium for the whole session (``browser``); each test gets a ``web`` helper that opens signed-in
pages in fresh browser contexts (``await web.signed_in("supervisor")``), watches every page (uncaught
page errors, CSP violations and ``alert()``-style dialogs fail the test; console errors are kept in
``test-artifacts/console/<test>.log``) and saves screenshots to ``test-artifacts/screenshots/``.
With ``IVR_UPDATE_SCREENSHOTS=1`` the README's screenshots (``docs/screenshots/``) are taken too.

Playwright's objects belong to the event loop that made them: the fixtures here run in the session's
loop, so every test module here sets ``pytestmark = pytest.mark.asyncio(loop_scope="session")``.
Never ``playwright install`` (it downloads browsers): the tests skip without Debian's Chromium or the
playwright package, and a skip fails the run on CI (tests/strict_skips.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from ivr.testing.stack import ControllerProcess
from tests.integration.browser.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    EXPECT_TIMEOUT_MS,
    BrowserTest,
    Users,
    chromium_present,
)

if TYPE_CHECKING:
    from playwright.async_api import Browser


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not chromium_present():
        pytest.skip(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.async_api import async_playwright, expect
    except ImportError:
        pytest.skip("needs the playwright Python package (make deps)")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture(scope="session")
def users() -> Users:
    return Users()


FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True  # the pages' last state is kept as screenshots
    return report


@pytest_asyncio.fixture(loop_scope="session")
async def web(
    browser: Browser, controller: ControllerProcess, users: Users, request: pytest.FixtureRequest
) -> AsyncIterator[BrowserTest]:
    test = BrowserTest(browser, controller, users, request.node.name)
    try:
        yield test
    finally:
        await test.close(failed=request.node.stash.get(FAILED, False))
    if test.log.problems:
        pytest.fail("the browser saw:\n" + "\n".join(test.log.problems), pytrace=False)
