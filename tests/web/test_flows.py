"""The flow editor's API: check, publish through the registry, versions, diff, rollback, graph."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from ivr.flows.loader import SHIPPED_DIR
from ivr.flows.registry import FlowRegistry
from ivr.flows.site_flows import SiteFlows
from ivr.store import CallStore
from ivr.web import WebDeps, build_app
from ivr.web.flows import FILE_AUTHOR, STATE, FlowWebDeps, add_flow_routes
from tests.web.conftest import AUTH, TOKEN, flow_status, start_client

Client = TestClient[web.Request, web.Application]

SITE = """name: site
languages: [en]
numbers: ["200"]
entry: hi
nodes:
  hi:
    type: hangup
    prompt: "{text}"
"""


def site_flow(text: str) -> str:
    return SITE.replace("{text}", text)


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    d = tmp_path / "flows"
    d.mkdir()
    (d / "site.yaml").write_text(site_flow("Hello"), encoding="utf-8")
    return d


@pytest.fixture
def registry(site_dir: Path) -> FlowRegistry:
    return FlowRegistry([SHIPPED_DIR, site_dir])


@pytest.fixture
def site(registry: FlowRegistry, site_dir: Path) -> SiteFlows:
    return SiteFlows(registry, site_dir)


@pytest.fixture
async def api(store: CallStore, site: SiteFlows) -> AsyncIterator[Client]:
    app = build_app(
        WebDeps(store=store, admin_token=TOKEN, ari_connected=lambda: True, flow_status=flow_status)
    )
    add_flow_routes(app, FlowWebDeps(flows=site, store=store))
    c = await start_client(app)
    try:
        yield c
    finally:
        await c.close()


async def _json(resp: Any, status: int = 200) -> Any:
    body = await resp.json()
    assert resp.status == status, body
    return body


async def test_get_flow_gives_source_origin_and_version(api: Client, registry: FlowRegistry) -> None:
    body = await _json(await api.get("/api/flows/site", headers=AUTH))
    assert body["source"] == site_flow("Hello")
    assert (body["origin"], body["overrides"], body["live"]) == ("site", None, True)
    assert body["version"] == registry.get("site").version
    assert body["errors"] == [] and body["numbers"] == ["200"] and body["revision"] is None
    shipped = await _json(await api.get("/api/flows/echo", headers=AUTH))
    assert shipped["origin"] == "shipped"
    assert shipped["file"] == str(SHIPPED_DIR / "echo.yaml")
    await _json(await api.get("/api/flows/nothing", headers=AUTH), 404)


async def test_check_reports_errors_at_their_lines_and_writes_nothing(api: Client, site_dir: Path) -> None:
    bad = site_flow("Hi").replace("type: hangup", "type: hangupp")
    body = await _json(await api.post("/api/flows/site/check", json={"source": bad}, headers=AUTH))
    assert body["ok"] is False
    [error] = body["errors"]
    assert (error["line"], error["column"]) == (7, 11)
    assert "hangupp" in error["message"]
    assert (site_dir / "site.yaml").read_text(encoding="utf-8") == site_flow("Hello")
    good = await _json(
        await api.post("/api/flows/site/check", json={"source": site_flow("Yo")}, headers=AUTH)
    )
    assert (good["ok"], good["errors"]) == (True, [])


async def test_check_catches_yaml_syntax_and_name_mismatch(api: Client) -> None:
    broken = "name: site\nnodes: [\n  a: b\n"
    body = await _json(await api.post("/api/flows/site/check", json={"source": broken}, headers=AUTH))
    assert not body["ok"] and body["errors"][0]["line"] >= 2
    assert "YAML syntax error" in body["errors"][0]["message"]
    renamed = site_flow("Hi").replace("name: site", "name: other")
    body = await _json(await api.post("/api/flows/site/check", json={"source": renamed}, headers=AUTH))
    [error] = body["errors"]
    assert error["line"] == 1 and "must be 'site'" in error["message"]


async def test_check_includes_link_errors(api: Client) -> None:
    taken = site_flow("Hi").replace('numbers: ["200"]', 'numbers: ["100"]')  # echo's number
    body = await _json(await api.post("/api/flows/site/check", json={"source": taken}, headers=AUTH))
    [error] = body["errors"]
    assert error["line"] == 3 and "already bound to flow 'echo'" in error["message"]


async def test_publish_makes_the_registry_serve_the_new_version(
    api: Client, registry: FlowRegistry, site_dir: Path, store: CallStore
) -> None:
    resp = await api.put(
        "/api/flows/site", json={"source": site_flow("Changed"), "note": "greeting"}, headers=AUTH
    )
    body = await _json(resp)
    live = registry.get("site")
    assert live.nodes["hi"].spec["prompt"] == "Changed"
    assert body["flow_version"] == live.version
    assert (site_dir / "site.yaml").read_text(encoding="utf-8") == site_flow("Changed")
    assert not [n for n in os.listdir(site_dir) if n.startswith(".")]  # no temporary file left
    rows = await store.list_flow_versions("site")
    # the file as found on disk is kept first, so the first publish can be rolled back too
    assert [(r["version"], r["author"], r["note"]) for r in rows] == [
        (2, "token", "greeting"),
        (1, FILE_AUTHOR, "as found in site.yaml before this publish"),
    ]
    assert body["version"] == 2
    again = await _json(await api.put("/api/flows/site", json={"source": site_flow("Third")}, headers=AUTH))
    assert again["version"] == 3  # the disk matched v2: nothing extra kept
    got = await _json(await api.get("/api/flows/site", headers=AUTH))
    assert (got["revision"], got["live"]) == (3, True)


async def test_publish_with_errors_is_422_at_lines_and_writes_nothing(
    api: Client, registry: FlowRegistry, site_dir: Path, store: CallStore
) -> None:
    before = registry.get("site")
    bad = site_flow("Hi").replace("entry: hi", "entry: nowhere")
    body = await _json(await api.put("/api/flows/site", json={"source": bad}, headers=AUTH), 422)
    assert body["errors"] and all(e["line"] == 4 for e in body["errors"])
    assert registry.get("site") is before
    assert (site_dir / "site.yaml").read_text(encoding="utf-8") == site_flow("Hello")
    assert await store.list_flow_versions("site") == []
    await _json(await api.put("/api/flows/site", json={"source": 3}, headers=AUTH), 422)
    await _json(await api.put("/api/flows/site", json={"source": "x", "note": ["no"]}, headers=AUTH), 422)


async def test_publishing_a_shipped_flow_writes_a_site_override(
    api: Client, registry: FlowRegistry, site_dir: Path
) -> None:
    text = (SHIPPED_DIR / "echo.yaml").read_text(encoding="utf-8").replace("Hello.", "Welcome.")
    await _json(await api.put("/api/flows/echo", json={"source": text}, headers=AUTH))
    assert registry.get("echo").file == site_dir / "echo.yaml"
    assert registry.for_number("100").nodes["hello"].spec["prompt"].startswith("Welcome.")
    body = await _json(await api.get("/api/flows/echo", headers=AUTH))
    assert (body["origin"], body["overrides"]) == ("site", str(SHIPPED_DIR / "echo.yaml"))
    assert "Hello." in (SHIPPED_DIR / "echo.yaml").read_text(encoding="utf-8")  # shipped file untouched


async def test_publish_creates_a_new_flow(api: Client, registry: FlowRegistry, site_dir: Path) -> None:
    text = site_flow("New").replace("name: site", "name: fresh").replace('"200"', '"201"')
    body = await _json(await api.put("/api/flows/fresh", json={"source": text}, headers=AUTH))
    assert body["version"] == 1
    assert registry.for_number("201").name == "fresh"
    assert (site_dir / "fresh.yaml").is_file()


async def test_registry_rejection_is_409_and_restores_the_file(
    api: Client, registry: FlowRegistry, site: SiteFlows, site_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the check passes where the registry will not: it knows a queue the registry does not
    real_check = site.check

    def lenient(name: str, text: str) -> Any:
        known = registry.queues
        registry.queues = known | {"vip"}
        try:
            return real_check(name, text)
        finally:
            registry.queues = known

    monkeypatch.setattr(site, "check", lenient)
    queued = site_flow("Hi").replace("type: hangup", "type: queue\n    queue: vip\n    on_no_agents: bye")
    queued += "  bye:\n    type: hangup\n"
    body = await _json(await api.put("/api/flows/site", json={"source": queued}, headers=AUTH), 409)
    assert any("vip" in e["message"] for e in body["errors"])
    assert (site_dir / "site.yaml").read_text(encoding="utf-8") == site_flow("Hello")
    assert registry.get("site").nodes["hi"].spec["prompt"] == "Hello"
    assert registry.errors() == []  # the restored file is what the registry has again


async def test_versions_diff_and_rollback(api: Client, registry: FlowRegistry) -> None:
    for text in ("Two", "Three"):
        await _json(await api.put("/api/flows/site", json={"source": site_flow(text)}, headers=AUTH))
    rows = await _json(await api.get("/api/flows/site/versions", headers=AUTH))
    assert [r["version"] for r in rows] == [3, 2, 1]
    assert all("source" not in r for r in rows)
    v2 = await _json(await api.get("/api/flows/site/versions/2", headers=AUTH))
    assert v2["source"] == site_flow("Two")
    assert '-    prompt: "Three"' in v2["diff"] and '+    prompt: "Two"' in v2["diff"]
    assert v2["diff"].startswith("--- current\n+++ v2\n")
    v3 = await _json(await api.get("/api/flows/site/versions/3", headers=AUTH))
    assert v3["diff"] == ""  # v3 is what is on disk
    await _json(await api.get("/api/flows/site/versions/9", headers=AUTH), 404)
    await _json(await api.get("/api/flows/site/versions/x", headers=AUTH), 404)

    back = await _json(await api.post("/api/flows/site/rollback", json={"version": 1}, headers=AUTH))
    assert (back["version"], back["note"]) == (4, "rollback to v1")
    assert registry.get("site").nodes["hi"].spec["prompt"] == "Hello"
    await _json(await api.post("/api/flows/site/rollback", json={"version": 42}, headers=AUTH), 404)
    await _json(await api.post("/api/flows/site/rollback", json={"version": "1"}, headers=AUTH), 422)


async def test_out_of_range_version_numbers_are_no_version(api: Client) -> None:
    """Found by tests/integration/test_api_fuzz.py: a rollback to version 10**20 overflowed SQLite's
    integer and answered 503 "store unavailable"; ``/versions/²`` (a digit to ``str.isdigit``, not to
    ``int``) answered 500."""
    await _json(await api.put("/api/flows/site", json={"source": site_flow("Two")}, headers=AUTH))
    for huge in (10**20, 2**63, 1_000_000_000):
        body = await _json(
            await api.post("/api/flows/site/rollback", json={"version": huge}, headers=AUTH), 422
        )
        assert "version" in body["error"]
    await _json(await api.post("/api/flows/site/rollback", json={"version": 999_999_999}, headers=AUTH), 404)
    for raw in ("%C2%B2", "%D9%A3", "1" * 5000, "99999999999999999999"):
        await _json(await api.get(f"/api/flows/site/versions/{raw}", headers=AUTH), 404)
    await _json(await api.get("/api/flows/site/versions/1", headers=AUTH))  # a real version still answers


async def test_graph_is_svg_of_the_live_version_and_cached(api: Client, site: SiteFlows) -> None:
    resp = await api.get("/api/flows/echo/graph.svg", headers=AUTH)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "image/svg+xml"
    image = await resp.text()
    assert image.lstrip().startswith("<?xml") and "<svg" in image
    assert "readback" in image and "<script" not in image
    state = api.app[STATE]
    assert ("echo", site.registry.get("echo").version) in state.svgs
    assert (await api.get("/api/flows/echo/graph.svg", headers=AUTH)).status == 200
    await _json(await api.get("/api/flows/nothing/graph.svg", headers=AUTH), 404)


async def test_publishes_of_one_flow_do_not_interleave(api: Client, store: CallStore) -> None:
    texts = [site_flow(f"P{i}") for i in range(4)]
    results = await asyncio.gather(
        *(api.put("/api/flows/site", json={"source": t}, headers=AUTH) for t in texts)
    )
    assert [r.status for r in results] == [200] * 4
    rows = await store.list_flow_versions("site")
    assert sorted(r["version"] for r in rows) == [1, 2, 3, 4, 5]


def test_site_flows_requires_a_registry_directory(registry: FlowRegistry, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not one of the registry's flow directories"):
        SiteFlows(registry, tmp_path / "elsewhere")
