"""The browser tests' harness: signed-in pages in fresh contexts, page watching, screenshots.

See conftest.py for the fixtures (``browser``, ``web``) and the artifacts.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ivr.testing.stack import ControllerProcess

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, WebSocket

ROOT = Path(__file__).resolve().parents[3]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CONSOLE_LOGS = ARTIFACTS / "console"
README_SHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1440, "height": 900}
EXPECT_TIMEOUT_MS = 15_000

ADMIN_USER = "admin"
ADMIN_PASSWORD = "test-admin-password-1"  # IVR_ADMIN_PASSWORD of the session's controller
# Other users are made through POST /api/users (bearer token); agent users are the test operators.
USERS: dict[str, dict[str, str]] = {
    "supervisor": {"name": "sup", "role": "supervisor"},
    "agent": {"name": "op3102", "role": "agent", "agent_id": "3102"},
}

# The login form (ivr/web/pages/login.html).
LOGIN_USER = 'input[name="user"]'
LOGIN_PASSWORD = 'input[name="password"]'
LOGIN_SUBMIT = 'form button[type="submit"]'
LOGIN_ERROR = "main [role=alert]"


def chromium_present() -> bool:
    return Path(CHROMIUM).is_file()


def update_readme_screenshots() -> bool:
    return os.environ.get("IVR_UPDATE_SCREENSHOTS") == "1"


@dataclass
class SocketLog:
    """A WebSocket a page opened, and how many frames it received."""

    url: str
    frames: int = 0
    closed: bool = False


@dataclass
class PageLog:
    problems: list[str] = field(default_factory=list)
    """Uncaught page errors, CSP violations and dialogs: each fails the test."""
    console: list[str] = field(default_factory=list)
    sockets: list[SocketLog] = field(default_factory=list)


@dataclass
class Users:
    """Users made once per session through the API: role -> (name, password)."""

    made: dict[str, tuple[str, str]] = field(default_factory=dict)


def password_for(name: str) -> str:
    return f"test-{name}-password-1"


def ensure_user(controller: ControllerProcess, users: Users, role: str) -> tuple[str, str]:
    """The (name, password) of a user with ``role``: admin is made by the controller from
    IVR_ADMIN_PASSWORD; the others through ``POST /api/users`` with the bearer token."""
    if role == "admin":
        return ADMIN_USER, ADMIN_PASSWORD
    if role in users.made:
        return users.made[role]
    spec = USERS[role]
    name, password = spec["name"], password_for(spec["name"])
    status, body = controller.post("/api/users", {**spec, "password": password})
    if status == 409:  # made earlier (a controller restart keeps its database): set the password
        status, body = controller.post(f"/api/users/{name}/password", {"password": password})
    assert status in (200, 201), f"POST /api/users for {role}: {status} {body}"
    users.made[role] = (name, password)
    return name, password


class BrowserTest:
    """One test's view of the browser: signed-in pages, screenshots, what the pages did."""

    def __init__(self, browser: Browser, controller: ControllerProcess, users: Users, test: str) -> None:
        self.browser = browser
        self.controller = controller
        self.users = users
        self.test = test
        self.log = PageLog()
        self.contexts: list[BrowserContext] = []
        self.pages: list[Page] = []
        self._shots = 0

    @property
    def base_url(self) -> str:
        return self.controller.base_url

    def url(self, path: str) -> str:
        return self.base_url + path

    async def new_page(self) -> Page:
        """A page in a fresh context (its own cookies): nobody signed in."""
        context = await self.browser.new_context(base_url=self.base_url, viewport=VIEWPORT)  # type: ignore[arg-type]
        self.contexts.append(context)
        page = await context.new_page()
        self.watch(page)
        return page

    async def signed_in(self, role: str = "admin") -> Page:
        """A page in a fresh context, signed in through the real /login form as a user with ``role``."""
        name, password = ensure_user(self.controller, self.users, role)
        page = await self.new_page()
        await self.sign_in(page, name, password)
        await page.wait_for_url(lambda url: "/login" not in url)
        return page

    async def sign_in(self, page: Page, name: str, password: str) -> None:
        """Fill and send the sign-in form (the caller checks where it lands)."""
        await page.goto("/login")
        await page.fill(LOGIN_USER, name)
        await page.fill(LOGIN_PASSWORD, password)
        await page.click(LOGIN_SUBMIT)

    def watch(self, page: Page) -> None:
        self.pages.append(page)
        log = self.log

        def on_page_error(error: Any) -> None:
            log.problems.append(f"uncaught error on {page.url}: {error}")

        def on_console(message: ConsoleMessage) -> None:
            if message.type != "error":
                return
            log.console.append(f"{page.url}: {message.text}")
            if "Content Security Policy" in message.text:
                log.problems.append(f"CSP violation on {page.url}: {message.text}")

        async def on_dialog(dialog: Dialog) -> None:
            log.problems.append(f"a {dialog.type} dialog opened on {page.url}: {dialog.message!r}")
            await dialog.dismiss()

        def on_websocket(socket: WebSocket) -> None:
            entry = SocketLog(socket.url)
            log.sockets.append(entry)

            def received(_: Any) -> None:
                entry.frames += 1

            def closed(_: Any) -> None:
                entry.closed = True

            socket.on("framereceived", received)
            socket.on("close", closed)

        page.on("pageerror", on_page_error)
        page.on("console", on_console)
        page.on("dialog", on_dialog)
        page.on("websocket", on_websocket)

    async def shot(self, page: Page, label: str = "", *, readme: str | None = None) -> Path:
        """Save a full-page screenshot as ``<test>[-label].png``; with ``readme`` and
        IVR_UPDATE_SCREENSHOTS=1 also as ``docs/screenshots/<readme>``."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = _safe(self.test + (f"-{label}" if label else ""))
        path = SCREENSHOTS / f"{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        self._shots += 1
        if readme is not None and update_readme_screenshots():
            README_SHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, README_SHOTS / readme)
        return path

    async def close(self, *, failed: bool) -> None:
        for index, page in enumerate(self.pages):
            if page.is_closed():
                continue
            if failed or self._shots == 0:
                suffix = "failed" if failed else "page"
                try:
                    await self.shot(page, f"{suffix}-{index}")
                except Exception as exc:  # a screenshot must not hide the test's result
                    self.log.console.append(f"screenshot of {page.url} failed: {exc}")
        for context in self.contexts:
            await context.close()
        if self.log.console:
            CONSOLE_LOGS.mkdir(parents=True, exist_ok=True)
            (CONSOLE_LOGS / f"{_safe(self.test)}.log").write_text("\n".join(self.log.console) + "\n")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")
