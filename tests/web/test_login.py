from __future__ import annotations

import re
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from ivr.store import CallStore
from ivr.web import WebDeps, build_app
from ivr.web.access import SecurityDeps
from ivr.web.login import WRONG, add_login_routes, safe_next
from ivr.web.rate_limit import SignInLimiter
from tests.web.conftest import AUTH, PASSWORD, TOKEN, add_user, flow_status, session_for, start_client

Client = TestClient[web.Request, web.Application]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def login_app(
    store: CallStore, *, cookie_secure: bool = False, clock: Clock | None = None
) -> web.Application:
    app = build_app(
        WebDeps(store=store, admin_token=TOKEN, ari_connected=lambda: True, flow_status=flow_status)
    )
    limiter = SignInLimiter(max_failures=5, window_s=300, clock=clock or Clock())
    add_login_routes(app, SecurityDeps(store=store, cookie_secure=cookie_secure, limiter=limiter))
    return app


@pytest.fixture
async def clock() -> Clock:
    return Clock()


@pytest.fixture
async def client(store: CallStore, clock: Clock) -> AsyncIterator[Client]:
    await add_user(store, "ada", "admin")
    await add_user(store, "alice", "agent", "2101")
    c = await start_client(login_app(store, clock=clock))
    try:
        yield c
    finally:
        await c.close()


def set_cookies(resp: ClientResponse) -> dict[str, SimpleCookie]:
    """Each Set-Cookie header of a response, parsed, by cookie name."""
    found: dict[str, SimpleCookie] = {}
    for header in resp.headers.getall("Set-Cookie", []):
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(header)
        for name in cookie:
            found[name] = cookie
    return found


async def form_csrf(client: Client, query: str = "") -> str:
    page = await client.get("/login" + query)
    assert page.status == 200 and page.content_type == "text/html"
    match = re.search(r'name="csrf" value="([^"]+)"', await page.text())
    assert match is not None
    return match.group(1)


async def sign_in(client: Client, user: str, password: str = PASSWORD, next_path: str = "") -> ClientResponse:
    csrf = await form_csrf(client)
    return await client.post(
        "/login",
        data={"user": user, "password": password, "csrf": csrf, "next": next_path},
        allow_redirects=False,
    )


async def test_login_page_carries_a_double_submit_token(client: Client) -> None:
    page = await client.get("/login?next=/calls")
    html = await page.text()
    cookie = set_cookies(page)["ivr_login_csrf"]["ivr_login_csrf"]
    assert f'name="csrf" value="{cookie.value}"' in html
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/login"
    assert 'name="next" value="/calls"' in html
    assert "<nav" not in html and "<script" not in html  # standalone; no inline script
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")


async def test_sign_in_sets_a_strict_session_cookie_and_goes_home(client: Client) -> None:
    resp = await sign_in(client, "alice")
    assert resp.status == 302 and resp.headers["Location"] == "/agent"
    cookie = set_cookies(resp)["ivr_session"]["ivr_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert not cookie["secure"]
    assert len(cookie.value) >= 40
    me = await (await client.get("/api/me")).json()
    assert me["user"] == "alice" and me["role"] == "agent" and me["agent_id"] == "2101"
    assert len(me["csrf_token"]) >= 40 and me["csrf_token"] != cookie.value
    admin = await sign_in(client, "ada")
    assert admin.headers["Location"] == "/wallboard"


async def test_secure_cookie_when_configured(store: CallStore) -> None:
    await add_user(store, "ada", "admin")
    c = await start_client(login_app(store, cookie_secure=True))
    try:
        page = await c.get("/login")
        form_cookie = set_cookies(page)["ivr_login_csrf"]["ivr_login_csrf"]
        assert form_cookie["secure"]
        resp = await c.post(  # the client keeps Secure cookies off plain HTTP: send it by hand
            "/login",
            data={"user": "ada", "password": PASSWORD, "csrf": form_cookie.value},
            headers={"Cookie": f"ivr_login_csrf={form_cookie.value}"},
            allow_redirects=False,
        )
        assert resp.status == 302
        assert set_cookies(resp)["ivr_session"]["ivr_session"]["secure"]
    finally:
        await c.close()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/calls/c1?x=1", "/calls/c1?x=1"),
        ("//evil.example/", "/wallboard"),
        ("https://evil.example/", "/wallboard"),
        ("/\\evil.example", "/wallboard"),
        ("/login", "/wallboard"),
        ("", "/wallboard"),
    ],
)
async def test_next_is_only_a_local_path(client: Client, given: str, expected: str) -> None:
    resp = await sign_in(client, "ada", next_path=given)
    assert resp.status == 302 and resp.headers["Location"] == expected


def test_safe_next() -> None:
    assert safe_next("/agents") == "/agents"
    for bad in (None, 3, "agents", "//x", "/\\x", "/a\nb", "/login?next=/x", "javascript:alert(1)"):
        assert safe_next(bad) is None


async def test_wrong_password_and_unknown_user_answer_alike(client: Client) -> None:
    wrong = await sign_in(client, "ada", "not-the-password")
    unknown = await sign_in(client, "nobody", "not-the-password")
    for resp in (wrong, unknown):
        assert resp.status == 200
        assert WRONG in await resp.text()
        assert "ivr_session" not in set_cookies(resp)
    assert (await client.get("/api/me")).status == 401


async def test_the_form_token_is_required(client: Client) -> None:
    await form_csrf(client)
    resp = await client.post(
        "/login", data={"user": "ada", "password": PASSWORD, "csrf": "forged"}, allow_redirects=False
    )
    assert resp.status == 403 and "ivr_session" not in set_cookies(resp)
    client.session.cookie_jar.clear()
    resp = await client.post(
        "/login", data={"user": "ada", "password": PASSWORD, "csrf": "x" * 43}, allow_redirects=False
    )
    assert resp.status == 403


async def test_failed_sign_ins_are_rate_limited(client: Client, clock: Clock) -> None:
    for _ in range(5):
        assert (await sign_in(client, "ada", "wrong-password")).status == 200
    limited = await sign_in(client, "ada")  # even the right password waits
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) == 300
    assert "Too many failed sign-ins" in await limited.text()
    assert "ivr_session" not in set_cookies(limited)
    assert (await sign_in(client, "alice")).status == 302  # another user name is not held up
    clock.now += 301
    assert (await sign_in(client, "ada")).status == 302


async def test_sign_out_ends_the_session(client: Client) -> None:
    await sign_in(client, "ada")
    me = await (await client.get("/api/me")).json()
    old_cookie = {c.key: c.value for c in client.session.cookie_jar}["ivr_session"]
    assert (await client.post("/logout", allow_redirects=False)).status == 403  # CSRF token needed
    out = await client.post("/logout", data={"csrf": me["csrf_token"]}, allow_redirects=False)
    assert out.status == 302 and out.headers["Location"] == "/login"
    assert set_cookies(out)["ivr_session"]["ivr_session"].value == ""
    replay = await client.get("/api/me", headers={"Cookie": f"ivr_session={old_cookie}"})
    assert replay.status == 401


async def test_signing_in_again_rotates_the_session(client: Client) -> None:
    await sign_in(client, "ada")
    first = {c.key: c.value for c in client.session.cookie_jar}["ivr_session"]
    await sign_in(client, "ada")
    second = {c.key: c.value for c in client.session.cookie_jar}["ivr_session"]
    assert first != second
    client.session.cookie_jar.clear()  # only the cookie given below
    assert (await client.get("/api/me", headers={"Cookie": f"ivr_session={first}"})).status == 401
    assert (await client.get("/api/me", headers={"Cookie": f"ivr_session={second}"})).status == 200


async def test_a_hostile_user_name_is_text_on_the_page(client: Client) -> None:
    resp = await sign_in(client, "<script>alert(1)</script>", "whatever-pass")
    text = await resp.text()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


async def test_disabled_user_cannot_sign_in(client: Client, store: CallStore) -> None:
    await store.set_user_disabled("alice", True)
    resp = await sign_in(client, "alice")
    assert resp.status == 200 and WRONG in await resp.text()


async def test_me_with_the_bearer_token(client: Client) -> None:
    me = await (await client.get("/api/me", headers=AUTH)).json()
    assert me == {"user": "token", "role": "admin", "agent_id": None, "csrf_token": None}


async def test_admin_manages_users(client: Client, store: CallStore) -> None:
    headers, csrf = await session_for(store, "ada")
    write = {**headers, "X-CSRF-Token": csrf}
    added = await client.post("/api/users", json={"name": "sam", "role": "supervisor"}, headers=write)
    assert added.status == 201
    body = await added.json()
    assert body["name"] == "sam" and body["role"] == "supervisor" and len(body["password"]) >= 10
    assert added.headers["Cache-Control"] == "no-store"
    client.session.cookie_jar.clear()
    assert (await sign_in(client, "sam", body["password"])).headers["Location"] == "/wallboard"
    client.session.cookie_jar.clear()

    listed = await (await client.get("/api/users", headers=headers)).json()
    assert [u["name"] for u in listed] == ["ada", "alice", "sam"]
    assert all("password" not in key for u in listed for key in u if key != "password_changed_at")

    given = await client.post(
        "/api/users", json={"name": "bo", "role": "agent", "password": "long-enough-pw"}, headers=write
    )
    assert given.status == 201
    assert "password" not in await given.json() and (await given.json())["agent_id"] == "bo"

    for bad, field in (
        ({"name": "Bad Name", "role": "agent"}, "name"),
        ({"name": "x", "role": "root"}, "role"),
        ({"name": "x", "role": "agent", "password": "short"}, "password"),
        ({"name": "x", "role": "supervisor", "agent_id": "2101"}, "agent_id"),
    ):
        resp = await client.post("/api/users", json=bad, headers=write)
        assert resp.status == 422 and (await resp.json())["field"] == field, bad
    dup = await client.post("/api/users", json={"name": "sam", "role": "admin"}, headers=write)
    assert dup.status == 409
    assert (await client.post("/api/users", data="[]", headers=write)).status == 422


async def test_admin_sets_a_password_and_ends_that_users_sessions(client: Client, store: CallStore) -> None:
    alice, _ = await session_for(store, "alice")
    assert (await client.get("/api/me", headers=alice)).status == 200
    resp = await client.post("/api/users/alice/password", json={}, headers=AUTH)
    assert resp.status == 200
    new = (await resp.json())["password"]
    assert (await client.get("/api/me", headers=alice)).status == 401
    assert (await sign_in(client, "alice", new)).status == 302
    client.session.cookie_jar.clear()
    chosen = await client.post(
        "/api/users/alice/password", json={"password": "chosen-password"}, headers=AUTH
    )
    assert chosen.status == 200 and "password" not in await chosen.json()
    missing = await client.post("/api/users/nobody/password", json={}, headers=AUTH)
    assert missing.status == 404
    weak = await client.post("/api/users/alice/password", json={"password": "short"}, headers=AUTH)
    assert weak.status == 422
