"""The browser pages: one shell (navigation, the CSRF meta tag, the page's script) around a body
fragment per page, and the static files they need. Everything is shipped in the package: no CDN.

A page is ``pages/<name>.html`` (its body) plus ``static/<name>.js`` (its behaviour, an ES module);
data comes from the JSON API with the session cookie. Pages never put data into HTML: scripts set
``textContent``, so a caller's name is text wherever it shows (the CSP forbids inline scripts anyway).
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from ivr.web.policy import ADMIN, AGENT, SUPERVISOR
from ivr.web.principal import Principal, principal_of

PAGES_DIR = Path(__file__).resolve().parent / "pages"
STATIC_DIR = Path(__file__).resolve().parent / "static"

_STATIC_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    title: str
    roles: frozenset[str]


PAGES = (
    Page("wallboard", "/wallboard", "Wallboard", frozenset({ADMIN, SUPERVISOR})),
    Page("reports", "/reports", "Reports", frozenset({ADMIN, SUPERVISOR})),
    Page("calls", "/calls", "Calls", frozenset({ADMIN, SUPERVISOR})),
    Page("flows", "/flows", "Flows", frozenset({ADMIN, SUPERVISOR})),
    Page("agents", "/agents", "Agents", frozenset({ADMIN, SUPERVISOR})),
    Page("agent", "/agent", "My panel", frozenset({AGENT})),
)
DETAIL_PAGES = (
    Page("call", "/calls/{call_id}", "Call", frozenset({ADMIN, SUPERVISOR})),
    Page("flow", "/flows/{name}", "Flow", frozenset({ADMIN, SUPERVISOR})),
)


def home_for(role: str) -> str:
    return "/agent" if role == AGENT else "/wallboard"


def _nav(principal: Principal, current: str) -> str:
    links = []
    for page in PAGES:
        if principal.role in page.roles:
            here = ' aria-current="page"' if page.name == current else ""
            links.append(f'<a href="{page.path}"{here}>{html.escape(page.title)}</a>')
    return "\n".join(links)


def render(page: Page, principal: Principal) -> str:
    shell = (PAGES_DIR / "shell.html").read_text(encoding="utf-8")
    body = (PAGES_DIR / f"{page.name}.html").read_text(encoding="utf-8")
    values = {
        "title": html.escape(page.title),
        "csrf": html.escape(principal.csrf_token or ""),
        "user": html.escape(principal.user),
        "role": html.escape(principal.role),
        "agent": html.escape(principal.agent_id or ""),
        "nav": _nav(principal, page.name),
        "body": body,
        "script": f"/static/{page.name}.js",
        "page": page.name,
    }
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], shell)


def _page_handler(page: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        principal = principal_of(request)
        if principal is None:  # the access middleware sends strangers to /login first
            raise web.HTTPFound("/login")
        return web.Response(text=render(page, principal), content_type="text/html", charset="utf-8")

    return handler


async def home(request: web.Request) -> web.StreamResponse:
    principal = principal_of(request)
    raise web.HTTPFound(home_for(principal.role) if principal else "/login")


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["path"]
    suffix = Path(name).suffix
    if not _STATIC_NAME.match(name) or suffix not in _TYPES:
        raise web.HTTPNotFound()
    path = STATIC_DIR / name
    if not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=path.read_bytes(),
        headers={"Content-Type": _TYPES[suffix], "Cache-Control": "no-cache"},
    )


def add_page_routes(app: web.Application) -> None:
    app.router.add_get("/", home)
    app.router.add_get("/static/{path}", static)
    for page in PAGES + DETAIL_PAGES:
        app.router.add_get(page.path, _page_handler(page))
