"""The one access check in front of every handler: who is asking (bearer token or session cookie), may
they use this route (``ivr.web.policy``), and is a state-changing request really from our own pages
(CSRF token, ``Origin``). Also the security headers every response carries.

Order of the checks for a request:

1. no route matched → 404/405 as usual (but a stranger asking under ``/api`` gets 401, so the API's
   shape is not probed without a token);
2. the route has no rule → 403 for everyone (and ``install_access`` refuses to start such an app);
3. a foreign ``Origin`` on a state-changing request or a WebSocket upgrade → 403;
4. public rule → on to the handler;
5. no principal → 302 to ``/login?next=…`` for pages, 401 JSON for the rest;
6. role not in the rule, or an ``agent`` using someone else's agent id / call → 403;
7. session (not bearer) and an unsafe method without the session's CSRF token → 403.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiohttp import web
from yarl import URL

from ivr.store import WebSessionRecord
from ivr.web.auth import bearer_token_matches
from ivr.web.policy import AGENT, ROLES, Rule, rule_for
from ivr.web.principal import PRINCIPAL_KEY, Principal
from ivr.web.rate_limit import SignInLimiter
from ivr.web.users import UserAdmin

log = logging.getLogger(__name__)

SESSION_COOKIE = "ivr_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_MAX_COOKIE = 128

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class UserStore(UserAdmin, Protocol):
    """What sign-in and the access check need from the store (``ivr.store.CallStore`` satisfies it)."""

    async def create_web_session(
        self, token: str, user_name: str, csrf_token: str, created_at: datetime, expires_at: datetime
    ) -> None: ...

    async def find_web_session(self, token: str, now: datetime) -> WebSessionRecord | None: ...

    async def delete_web_session(self, token: str) -> None: ...

    async def delete_expired_web_sessions(self, now: datetime) -> int: ...


def _no_call(_agent_id: str) -> str | None:
    return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SecurityDeps:
    store: UserStore
    call_of_agent: Callable[[str], str | None] = _no_call
    """The call an agent is talking to now (``own="call_id"`` rules), or ``None``."""
    cookie_secure: bool = False
    """Mark cookies ``Secure`` (``IVR_COOKIE_SECURE=1``: the site is served over HTTPS)."""
    limiter: SignInLimiter = field(default_factory=SignInLimiter)
    now: Callable[[], datetime] = _utc_now
    session_ttl: timedelta = timedelta(hours=12)


SECURITY_KEY = web.AppKey("security", SecurityDeps)
"""Set by ``ivr.web.login.add_login_routes``; without it only the bearer token signs anyone in."""
ADMIN_TOKEN_KEY = web.AppKey("admin_token", str)
"""Set by ``install_access``: the bearer token of scripts."""


def _json(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _unauthorized() -> web.Response:
    response = _json(401, "sign in required (session cookie or bearer token)")
    response.headers["WWW-Authenticate"] = 'Bearer realm="ivr"'
    return response


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def origin_ok(request: web.Request) -> bool:
    """No ``Origin`` header, or one naming this very host (scheme http/https)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == (request.host or "").lower()


def _is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


async def authenticate(request: web.Request) -> Principal | None:
    """The bearer token (judged alone when an ``Authorization`` header is sent) or the session cookie."""
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        if bearer_token_matches(authorization, request.app[ADMIN_TOKEN_KEY]):
            return Principal(user="token", role="admin", via="token")
        return None
    deps = request.app.get(SECURITY_KEY)
    token = request.cookies.get(SESSION_COOKIE)
    if deps is None or not token or len(token) > _MAX_COOKIE:
        return None
    try:
        found = await deps.store.find_web_session(token, deps.now())
    except Exception as exc:
        log.warning("session lookup failed: %s", exc)
        raise web.HTTPServiceUnavailable(reason="Store unavailable") from exc
    if found is None or found.user.disabled or found.user.role not in ROLES:
        return None
    user = found.user
    return Principal(
        user=user.name, role=user.role, agent_id=user.agent_id, csrf_token=found.csrf_token, via="session"
    )


def _owns(request: web.Request, rule: Rule, principal: Principal) -> bool:
    if rule.own is None or principal.role != AGENT:
        return True
    if principal.agent_id is None:
        return False
    value = request.match_info.get(rule.own)
    if rule.own == "agent_id":
        return value == principal.agent_id
    if rule.own == "call_id":
        deps = request.app.get(SECURITY_KEY)
        current = deps.call_of_agent(principal.agent_id) if deps is not None else None
        return current is not None and value == current
    return False


async def csrf_ok(request: web.Request, expected: str | None) -> bool:
    """The ``X-CSRF-Token`` header or the form field ``csrf`` equals ``expected`` (constant time)."""
    if not expected:
        return False
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type in _FORM_TYPES:
        value = (await request.post()).get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _login_redirect(request: web.Request) -> web.HTTPFound:
    return web.HTTPFound(str(URL("/login").with_query(next=request.rel_url.path_qs)))


@web.middleware
async def access_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    resource = request.match_info.route.resource
    if resource is None:  # nothing matched: 404 or 405
        if _is_api(request.path) and await authenticate(request) is None:
            return _unauthorized()
        return await handler(request)
    rule = rule_for(request.method, resource.canonical)
    if rule is None:
        return _json(403, "forbidden: this route has no access rule")
    if (request.method in UNSAFE_METHODS or _is_websocket(request)) and not origin_ok(request):
        return _json(403, "forbidden: cross-origin request")
    if rule.public:
        return await handler(request)
    principal = await authenticate(request)
    if principal is None:
        if rule.page:
            raise _login_redirect(request)
        return _unauthorized()
    if principal.role not in rule.roles or not _owns(request, rule, principal):
        return _json(403, "forbidden")
    if (
        principal.via == "session"
        and request.method in UNSAFE_METHODS
        and not await csrf_ok(request, principal.csrf_token)
    ):
        return _json(403, "forbidden: missing or wrong CSRF token")
    request[PRINCIPAL_KEY] = principal
    return await handler(request)


def routes_without_rule(app: web.Application) -> list[str]:
    """``METHOD path`` of each registered route that ``ivr.web.policy.RULES`` does not cover."""
    missing = []
    for route in app.router.routes():
        resource = route.resource
        if resource is None:
            continue
        if rule_for(route.method, resource.canonical) is None:
            missing.append(f"{route.method} {resource.canonical}")
    return missing


async def _refuse_routes_without_rule(app: web.Application) -> None:
    missing = routes_without_rule(app)
    if missing:
        raise RuntimeError(
            "routes without an access rule in ivr.web.policy.RULES (nobody could use them): "
            + ", ".join(missing)
        )


async def _security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


def install_access(app: web.Application, admin_token: str) -> None:
    """Everything ``access_middleware`` needs on ``app`` besides the middleware itself: the bearer
    token, the start-up check that every route has a rule, and the security headers."""
    if not admin_token:
        raise ValueError("admin token must not be empty")
    app[ADMIN_TOKEN_KEY] = admin_token
    app.on_startup.append(_refuse_routes_without_rule)
    app.on_response_prepare.append(_security_headers)


def cookie_attributes(deps: SecurityDeps) -> dict[str, Any]:
    """The attributes of every cookie we set."""
    return {"httponly": True, "samesite": "Strict", "secure": deps.cookie_secure}
