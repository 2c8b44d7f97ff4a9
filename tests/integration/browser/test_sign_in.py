"""Signing in and out through the real /login form."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.async_api", reason="needs the playwright Python package (make deps)")

from playwright.async_api import expect

from tests.integration.browser.harness import (
    ADMIN_USER,
    LOGIN_ERROR,
    BrowserTest,
)
from tests.integration.browser.scene import path_of

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_admin_signs_in_sees_the_pages_and_signs_out(web: BrowserTest) -> None:
    page = await web.signed_in("admin")
    assert path_of(page.url) == "/wallboard"  # an admin's home
    await expect(page.locator("header .who")).to_contain_text(ADMIN_USER)
    nav = page.locator("header nav a")
    await expect(nav).to_have_text(["Wallboard", "Reports", "Calls", "Flows", "Agents"])
    await web.shot(page)

    await page.click("form.logout button[type=submit]")
    await page.wait_for_url(lambda url: path_of(url) == "/login")
    await page.goto("/reports")  # the session is over: back to the form
    assert path_of(page.url) == "/login"


async def test_a_wrong_password_shows_the_error_and_lets_nobody_in(web: BrowserTest) -> None:
    page = await web.new_page()
    await web.sign_in(page, ADMIN_USER, "not-the-admin-password")
    error = page.locator(LOGIN_ERROR)
    await expect(error).to_be_visible()
    await expect(error).not_to_be_empty()
    assert path_of(page.url) == "/login"
    await web.shot(page)
    await page.goto("/wallboard")
    assert path_of(page.url) == "/login"  # no session was made
