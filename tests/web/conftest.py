from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from ivr.store import CallStore, default_db_url
from ivr.web import WebDeps, build_app

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
