"""The access check against the whole policy table: every route (a trivial handler each, so only the
check decides) refuses strangers and wrong roles and lets the right roles through."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from ivr.store import CallStore
from ivr.web.access import (
    ADMIN_TOKEN_KEY,
    SECURITY_HEADERS,
    SECURITY_KEY,
    SecurityDeps,
    access_middleware,
    install_access,
    routes_without_rule,
)
from ivr.web.policy import AGENT, ROLES, RULES
from ivr.web.principal import principal_of
from tests.web.conftest import AUTH, TOKEN, add_user, session_for, start_client

Client = TestClient[web.Request, web.Application]

AGENT_ID, OTHER_AGENT, CALL = "2101", "2102", "call-7"
PARAMS = {"agent_id": AGENT_ID, "call_id": CALL, "path": "app.css"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
USER_OF = {"admin": "ada", "supervisor": "sam", "agent": "alice"}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PARAMS.get(m.group(1), "x"), path)


async def ok(request: web.Request) -> web.Response:
    principal = principal_of(request)
    return web.json_response({"user": principal.user if principal else None})


def policy_app(store: CallStore) -> web.Application:
    app = web.Application(middlewares=[access_middleware])
    install_access(app, TOKEN)
    app[SECURITY_KEY] = SecurityDeps(
        store=store, call_of_agent=lambda agent_id: CALL if agent_id == AGENT_ID else None
    )
    for method, path in RULES:
        app.router.add_route(method, path, ok)
    return app


@pytest.fixture
async def client(store: CallStore) -> AsyncIterator[Client]:
    await add_user(store, "ada", "admin")
    await add_user(store, "sam", "supervisor")
    await add_user(store, "alice", "agent", AGENT_ID)
    await add_user(store, "bert", "agent", OTHER_AGENT)
    c = await start_client(policy_app(store))
    try:
        yield c
    finally:
        await c.close()


async def as_user(store: CallStore, name: str) -> dict[str, str]:
    """Session headers with the CSRF token, so only role and ownership decide."""
    headers, csrf = await session_for(store, name)
    return {**headers, "X-CSRF-Token": csrf}


async def test_the_table_covers_every_route_of_the_test_app(store: CallStore) -> None:
    assert routes_without_rule(policy_app(store)) == []


async def test_strangers_are_refused_on_every_route_that_is_not_public(client: Client) -> None:
    wrong = []
    for (method, path), rule in RULES.items():
        url = concrete(path)
        resp = await client.request(method, url, allow_redirects=False)
        if rule.public:
            expected = resp.status == 200
        elif rule.page:
            location = urlsplit(resp.headers.get("Location", ""))
            expected = (
                resp.status == 302
                and location.path == "/login"
                and parse_qs(location.query) == {"next": [url]}
            )
        else:
            expected = (
                resp.status == 401
                and "error" in await resp.json()
                and resp.headers.get("WWW-Authenticate", "").startswith("Bearer")
            )
        if not expected:
            wrong.append(f"{method} {path}: {resp.status}")
    assert wrong == []
    assert sum(1 for r in RULES.values() if not r.public) > 40  # the walk really covered the table


async def test_wrong_roles_are_refused_everywhere(client: Client, store: CallStore) -> None:
    sessions = {role: await as_user(store, USER_OF[role]) for role in ROLES}
    wrong, checked = [], 0
    for (method, path), rule in RULES.items():
        if rule.public:
            continue
        for role in set(ROLES) - rule.roles:
            resp = await client.request(method, concrete(path), headers=sessions[role], allow_redirects=False)
            checked += 1
            if resp.status != 403:
                wrong.append(f"{role} {method} {path}: {resp.status}")
    assert wrong == []
    assert checked > 20


async def test_allowed_roles_and_the_token_get_through(client: Client, store: CallStore) -> None:
    sessions = {role: await as_user(store, USER_OF[role]) for role in ROLES}
    wrong = []
    for (method, path), rule in RULES.items():
        if rule.public:
            continue
        for role in rule.roles:
            resp = await client.request(method, concrete(path), headers=sessions[role], allow_redirects=False)
            if resp.status != 200 or (await resp.json())["user"] != USER_OF[role]:
                wrong.append(f"{role} {method} {path}: {resp.status}")
        token = await client.request(method, concrete(path), headers=AUTH, allow_redirects=False)
        if token.status != (200 if "admin" in rule.roles else 403):
            wrong.append(f"token {method} {path}: {token.status}")
    assert wrong == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/api/agents/{OTHER_AGENT}/state"),
        ("GET", f"/api/agents/{OTHER_AGENT}/current"),
        ("POST", "/api/calls/someone-elses-call/transfer"),
        ("POST", "/api/calls/someone-elses-call/recording"),
    ],
)
async def test_an_agent_only_acts_for_themself(
    client: Client, store: CallStore, method: str, path: str
) -> None:
    alice = await as_user(store, "alice")
    assert (await client.request(method, path, headers=alice)).status == 403
    sam = await as_user(store, "sam")
    assert (await client.request(method, path, headers=sam)).status == 200


async def test_an_agent_without_a_call_owns_no_call(client: Client, store: CallStore) -> None:
    bert = await as_user(store, "bert")
    assert (await client.post(f"/api/calls/{CALL}/recording", headers=bert)).status == 403
    assert (await client.post(f"/api/agents/{OTHER_AGENT}/state", headers=bert)).status == 200
    assert AGENT in RULES[("POST", "/api/calls/{call_id}/recording")].roles


async def test_csrf_token_required_with_a_session(client: Client, store: CallStore) -> None:
    headers, csrf = await session_for(store, "alice")
    url = f"/api/agents/{AGENT_ID}/state"
    assert (await client.post(url, headers=headers)).status == 403
    assert (await client.post(url, headers={**headers, "X-CSRF-Token": csrf + "x"})).status == 403
    assert (await client.post(url, headers=headers, data={"csrf": "wrong"})).status == 403
    assert (await client.post(url, headers=headers, json={"csrf": csrf})).status == 403  # header or form
    assert (await client.post(url, headers={**headers, "X-CSRF-Token": csrf})).status == 200
    assert (await client.post(url, headers=headers, data={"csrf": csrf, "state": "paused"})).status == 200
    assert (await client.get(f"/api/agents/{AGENT_ID}/current", headers=headers)).status == 200  # safe


async def test_a_session_token_is_not_another_sessions_csrf(client: Client, store: CallStore) -> None:
    headers, _ = await session_for(store, "alice")
    _, other_csrf = await session_for(store, "alice")
    resp = await client.post(f"/api/agents/{AGENT_ID}/state", headers={**headers, "X-CSRF-Token": other_csrf})
    assert resp.status == 403


async def test_the_bearer_token_needs_no_csrf(client: Client) -> None:
    assert (await client.put("/api/flows/shop", headers=AUTH)).status == 200


async def test_foreign_origin_refused(client: Client, store: CallStore) -> None:
    sam = await as_user(store, "sam")
    own = str(client.make_url("/")).rstrip("/")
    for origin in ("http://evil.example", "null", own + ".evil.example", "ftp://" + own.split("://")[1]):
        resp = await client.post("/api/calls/c1/listen", headers={**sam, "Origin": origin})
        assert resp.status == 403, origin
    assert (await client.post("/api/calls/c1/listen", headers={**sam, "Origin": own})).status == 200
    login = await client.post("/login", headers={"Origin": "http://evil.example"})
    assert login.status == 403  # public, but still not from another site


async def test_websocket_upgrade_checks_origin(client: Client) -> None:
    upgrade = {**AUTH, "Upgrade": "websocket", "Connection": "Upgrade"}
    bad = await client.get("/api/wallboard/ws", headers={**upgrade, "Origin": "http://evil.example"})
    assert bad.status == 403
    own = str(client.make_url("/")).rstrip("/")
    assert (await client.get("/api/wallboard/ws", headers={**upgrade, "Origin": own})).status == 200


async def test_disabled_and_expired_sessions_are_refused(client: Client, store: CallStore) -> None:
    await add_user(store, "dora", "supervisor")
    await store.set_user_disabled("dora", True)
    headers, _ = await session_for(store, "dora")  # a session made after disabling still fails
    assert (await client.get("/api/calls", headers=headers)).status == 401
    now = datetime.now(UTC)
    await store.create_web_session(
        "old-token", "sam", "c", now - timedelta(hours=2), now - timedelta(hours=1)
    )
    assert (await client.get("/api/calls", headers={"Cookie": "ivr_session=old-token"})).status == 401


async def test_a_wrong_bearer_token_is_not_saved_by_a_cookie(client: Client, store: CallStore) -> None:
    headers, _ = await session_for(store, "sam")
    resp = await client.get("/api/calls", headers={**headers, "Authorization": "Bearer wrong"})
    assert resp.status == 401


async def test_unknown_paths(client: Client) -> None:
    assert (await client.get("/api/nope")).status == 401  # strangers do not map the API
    assert (await client.get("/api/nope", headers=AUTH)).status == 404
    assert (await client.get("/no-such-page")).status == 404


async def test_security_headers_on_every_response(client: Client) -> None:
    for resp in (
        await client.get("/healthz"),
        await client.get("/api/calls"),
        await client.get("/agent", headers=AUTH),
        await client.get("/api/nope", headers=AUTH),
        await client.get("/wallboard", allow_redirects=False),
    ):
        for name, value in SECURITY_HEADERS.items():
            assert resp.headers.get(name) == value, (resp.status, name)
    csp = SECURITY_HEADERS["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp


async def test_a_route_without_a_rule_is_refused() -> None:
    app = web.Application(middlewares=[access_middleware])
    app[ADMIN_TOKEN_KEY] = TOKEN  # no install_access: the start-up check is not there to stop it
    app.router.add_get("/api/unruled", ok)
    client = await start_client(app)
    try:
        assert (await client.get("/api/unruled", headers=AUTH)).status == 403
    finally:
        await client.close()


async def test_start_up_refuses_a_route_without_a_rule(store: CallStore) -> None:
    app = policy_app(store)
    app.router.add_post("/api/unruled", ok)
    assert routes_without_rule(app) == ["POST /api/unruled"]
    with pytest.raises(RuntimeError, match="POST /api/unruled"):
        await start_client(app)
