"""Sign-in, sign-out, who am I, and the admins' user list.

    GET  /login                       the sign-in page (standalone: no navigation)
    POST /login                       form user, password, csrf, next → session cookie, redirect
    POST /logout                      end the session, back to /login
    GET  /api/me                      {user, role, agent_id, csrf_token}
    GET  /api/users                   admin: every user (never a password hash)
    POST /api/users                   admin: {name, role, agent_id?, password?} → 201 (a generated
                                      password is in the answer, once)
    POST /api/users/{name}/password   admin: {password?} → a new password (generated if not given)

The sign-in form carries a pre-session CSRF token twice (cookie + hidden field); the session gets its
own CSRF token, new with every sign-in, as does the session cookie itself.
"""

from __future__ import annotations

import asyncio
import hmac
import html
import json
import re
import secrets
from typing import Any

from aiohttp import web

from ivr.store import UserExistsError
from ivr.web.access import (
    CSRF_FIELD,
    SECURITY_KEY,
    SESSION_COOKIE,
    SecurityDeps,
    UserStore,
)
from ivr.web.app import NOT_AN_OBJECT, json_object
from ivr.web.pages import PAGES_DIR, home_for
from ivr.web.passwords import MAX_LENGTH, dummy_verify, hash_password, needs_rehash, verify_password
from ivr.web.principal import principal_of
from ivr.web.users import USER_NAME, UserInputError, change_password, create_user, public_user

LOGIN_CSRF_COOKIE = "ivr_login_csrf"
WRONG = "Wrong user name or password"
EXPIRED = "The sign-in form expired; please sign in again"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
_NO_STORE = {"Cache-Control": "no-store"}


def safe_next(raw: object) -> str | None:
    """A local path to go to after sign-in, or ``None``: only ``/...``, never ``//host`` or ``/\\host``,
    never control characters, never back to ``/login``."""
    if not isinstance(raw, str) or not raw.startswith("/") or raw.startswith("//"):
        return None
    if "\\" in raw or any(ord(ch) < 32 or ord(ch) == 127 for ch in raw) or len(raw) > 2000:
        return None
    if raw == "/login" or raw.startswith(("/login?", "/login/")):
        return None
    return raw


def _cookie(response: web.StreamResponse, deps: SecurityDeps, name: str, value: str, **extra: Any) -> None:
    response.set_cookie(name, value, httponly=True, samesite="Strict", secure=deps.cookie_secure, **extra)


def _login_page(
    deps: SecurityDeps,
    csrf: str,
    *,
    next_path: str | None = None,
    user: str = "",
    message: str | None = None,
    status: int = 200,
) -> web.Response:
    template = (PAGES_DIR / "login.html").read_text(encoding="utf-8")
    values = {
        "csrf": html.escape(csrf),
        "next": html.escape(next_path or ""),
        "user": html.escape(user),
        "message": f'<p class="error" role="alert">{html.escape(message)}</p>' if message else "",
    }
    body = re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], template)
    response = web.Response(text=body, content_type="text/html", charset="utf-8", status=status)
    response.headers.update(_NO_STORE)
    _cookie(response, deps, LOGIN_CSRF_COOKIE, csrf, path="/login", max_age=3600)
    return response


def _form_csrf(request: web.Request) -> str:
    """The pre-session token of this browser (kept if it has a sound one)."""
    kept = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return kept if _TOKEN.match(kept) else secrets.token_urlsafe(32)


async def login_form(request: web.Request) -> web.Response:
    deps = request.app[SECURITY_KEY]
    return _login_page(deps, _form_csrf(request), next_path=safe_next(request.query.get("next")))


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def login(request: web.Request) -> web.Response:
    deps = request.app[SECURITY_KEY]
    form = await request.post()
    user, password = _text(form, "user").strip(), _text(form, "password")
    next_path = safe_next(_text(form, "next"))
    sent, kept = _text(form, CSRF_FIELD), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not kept or not hmac.compare_digest(sent.encode(), kept.encode()):
        fresh = secrets.token_urlsafe(32)
        return _login_page(deps, fresh, next_path=next_path, user=user, message=EXPIRED, status=403)
    client = request.remote or "unknown"
    wait = deps.limiter.retry_after(client, user)
    if wait is not None:
        minutes = max(1, round(wait / 60))
        response = _login_page(
            deps,
            kept,
            next_path=next_path,
            user=user,
            message=f"Too many failed sign-ins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
            status=429,
        )
        response.headers["Retry-After"] = str(wait)
        return response
    record = await deps.store.get_user(user) if USER_NAME.match(user) else None
    if record is None or record.disabled or len(password) > MAX_LENGTH:
        await asyncio.to_thread(dummy_verify, password[:MAX_LENGTH])  # as slow as a real check
        ok = False
    else:
        ok = await asyncio.to_thread(verify_password, record.password_hash, password)
    if record is None or not ok:
        deps.limiter.failed(client, user)
        return _login_page(deps, kept, next_path=next_path, user=user, message=WRONG)
    deps.limiter.succeeded(client, user)
    now = deps.now()
    if needs_rehash(record.password_hash):
        await deps.store.set_user_password(record.name, await asyncio.to_thread(hash_password, password), now)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await deps.store.delete_web_session(old)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    await deps.store.create_web_session(token, record.name, csrf, now, now + deps.session_ttl)
    await deps.store.delete_expired_web_sessions(now)
    response = web.Response(status=302, headers={"Location": next_path or home_for(record.role), **_NO_STORE})
    _cookie(response, deps, SESSION_COOKIE, token, path="/", max_age=int(deps.session_ttl.total_seconds()))
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


async def logout(request: web.Request) -> web.Response:
    deps = request.app[SECURITY_KEY]
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await deps.store.delete_web_session(token)
    response = web.Response(status=302, headers={"Location": "/login", **_NO_STORE})
    response.del_cookie(SESSION_COOKIE, path="/", secure=deps.cookie_secure, httponly=True, samesite="Strict")
    return response


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(
        data, status=status, headers=_NO_STORE, dumps=lambda d: json.dumps(d, ensure_ascii=False)
    )


async def me(request: web.Request) -> web.Response:
    principal = principal_of(request)
    if principal is None:  # the access check lets nobody here without one
        raise web.HTTPUnauthorized()
    return _json(
        {
            "user": principal.user,
            "role": principal.role,
            "agent_id": principal.agent_id,
            "csrf_token": principal.csrf_token,
        }
    )


async def _body(request: web.Request) -> dict[str, Any] | web.Response:
    body = await json_object(request)
    return _json({"error": NOT_AN_OBJECT}, 422) if body is None else body


async def list_users(request: web.Request) -> web.Response:
    users = await request.app[SECURITY_KEY].store.list_users()
    return _json([public_user(u) for u in users])


async def add_user(request: web.Request) -> web.Response:
    store = request.app[SECURITY_KEY].store
    body = await _body(request)
    if isinstance(body, web.Response):
        return body
    try:
        record, generated = await create_user(
            store, body.get("name"), body.get("role"), body.get("agent_id"), body.get("password")
        )
    except UserInputError as exc:
        return _json({"error": str(exc), "field": exc.field}, 422)
    except UserExistsError:
        return _json({"error": "a user of that name exists already", "field": "name"}, 409)
    answer = public_user(record)
    if generated is not None:
        answer["password"] = generated
    return _json(answer, 201)


async def set_password(request: web.Request) -> web.Response:
    store = request.app[SECURITY_KEY].store
    name = request.match_info["name"]
    body = await _body(request) if request.can_read_body else {}
    if isinstance(body, web.Response):
        return body
    try:
        found, generated = await change_password(store, name, body.get("password"))
    except UserInputError as exc:
        return _json({"error": str(exc), "field": exc.field}, 422)
    if not found:
        return _json({"error": "user not found", "name": name}, 404)
    answer: dict[str, Any] = {"name": name}
    if generated is not None:
        answer["password"] = generated
    return _json(answer)


def add_login_routes(app: web.Application, deps: SecurityDeps) -> None:
    """Sign-in and user routes; also turns on session cookies in the access check."""
    app[SECURITY_KEY] = deps
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/api/me", me)
    app.router.add_get("/api/users", list_users)
    app.router.add_post("/api/users", add_user)
    app.router.add_post("/api/users/{name}/password", set_password)


__all__ = ["LOGIN_CSRF_COOKIE", "SecurityDeps", "UserStore", "add_login_routes", "safe_next"]
