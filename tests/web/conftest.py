from __future__ import annotations

import functools
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ivr.store import CallStore, default_db_url
from ivr.web import WebDeps, build_app
from ivr.web.passwords import hash_password

TOKEN = "test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[CallStore]:
    s = CallStore(default_db_url(tmp_path))
    await s.open()
    try:
        yield s
    finally:
        await s.close()


def flow_status() -> dict[str, Any]:
    return {"flows": [{"name": "shop", "version": 3}], "errors": []}


async def start_client(app: web.Application) -> TestClient[web.Request, web.Application]:
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def client(store: CallStore) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    deps = WebDeps(store=store, admin_token=TOKEN, ari_connected=lambda: True, flow_status=flow_status)
    c = await start_client(build_app(deps))
    try:
        yield c
    finally:
        await c.close()


# -- signed-in browsers (sessions), for tests of pages and of the access check -------------------

PASSWORD = "correct-horse-battery"
_hash = functools.cache(hash_password)


async def add_user(
    store: CallStore, name: str, role: str, agent_id: str | None = None, password: str = PASSWORD
) -> None:
    """A user in the store (the hash of each distinct password is made once per test run)."""
    await store.add_user(name, _hash(password), role, agent_id, datetime.now(UTC))


async def session_for(store: CallStore, name: str) -> tuple[dict[str, str], str]:
    """A session of user ``name`` made in the store: ``(headers with its cookie, its CSRF token)``.
    State-changing requests also need ``{"X-CSRF-Token": csrf}``."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    await store.create_web_session(token, name, csrf, now, now + timedelta(hours=1))
    return {"Cookie": f"ivr_session={token}"}, csrf
