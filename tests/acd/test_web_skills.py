"""``PUT /api/agents/{id}/skills`` end to end: the route, ``AcdRuntime.edit_agent`` and the agents file
on disk, reloaded through the watcher's path (the ARI is the recording fake)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from acd.config import DEFAULT_AGENTS_FILE, DEFAULT_QUEUES_FILE, load_acd
from acd.model import AcdConfig
from acd.runtime import AcdFiles, AcdRuntime
from acd.service import AcdService, AcdSettings
from acd.skills_edit import FileRejected, SkillsEdit
from acd.web import AcdWebDeps, add_acd_routes
from ivr.calls.legs import LegRegistry
from tests.calls.fake_ari import FakeAri

Client = TestClient[web.Request, web.Application]


class Store:
    async def latest_agent_states(self) -> list[Any]:
        return []


class Site:
    def __init__(self, tmp_path: Path) -> None:
        self.agents = tmp_path / "agents.yaml"
        shutil.copy(DEFAULT_AGENTS_FILE, self.agents)
        self.ari = FakeAri()
        self.runtime = AcdRuntime(
            files=AcdFiles(self.agents, None),
            ari=self.ari,  # type: ignore[arg-type]
            legs=LegRegistry(),
            submit=lambda write: None,
            settings=AcdSettings(),
        )
        self.client: Client

    @property
    def service(self) -> AcdService:
        assert self.runtime.service is not None
        return self.runtime.service

    async def put(self, agent_id: str, body: Any) -> tuple[int, Any]:
        response = await self.client.put(f"/api/agents/{agent_id}/skills", json=body)
        return response.status, await response.json()


async def noop(*args: Any) -> dict[str, Any]:
    return {}


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    s = Site(tmp_path)
    service = await s.runtime.start(Store())
    app = web.Application()
    add_acd_routes(
        app,
        AcdWebDeps(
            service=service,
            get_call=noop,
            report=noop,
            config_status=s.runtime.status,
            edit_agent=s.runtime.edit_agent,
        ),
    )
    try:
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            s.client = client
            yield s
    finally:
        await s.runtime.close()


async def test_an_edit_is_written_to_the_file_and_live_at_once(site: Site) -> None:
    status, row = await site.put("2102", {"skills": {"orders": 5, "returns": 3}, "languages": ["ja", "en"]})

    assert status == 200
    assert row["id"] == "2102"
    assert row["skills"] == {"orders": 5, "returns": 3}
    assert row["languages"] == ["ja", "en"]
    live = {a.id: a for a in site.service.distributor.config.agents}
    assert dict(live["2102"].skills) == {"orders": 5, "returns": 3}
    text = site.agents.read_text(encoding="utf-8")
    assert "    skills: {orders: 5, returns: 3}\n    languages: [ja, en]\n" in text
    assert text.startswith("# Demo agents")  # the file's comments stay
    assert text.count("skills:") == 8
    assert site.runtime.errors == []
    assert site.runtime._stamp == site.runtime._mtimes()  # the watcher will not reload it again


async def test_languages_stay_when_only_skills_are_sent(site: Site) -> None:
    status, row = await site.put("2101", {"skills": {"complaints": 1}})
    assert status == 200
    assert row["skills"] == {"complaints": 1}
    assert row["languages"] == ["ja", "en"]


async def test_a_wrong_body_is_422_and_the_file_is_untouched(site: Site) -> None:
    before = site.agents.read_text(encoding="utf-8")
    for body, field in [
        ({"skills": {"oders": 5}}, "skills.oders"),
        ({"skills": {"orders": 6}}, "skills.orders"),
        ({"skills": {"orders": 2}, "languages": []}, "languages"),
    ]:
        status, answer = await site.put("2101", body)
        assert (status, answer["field"]) == (422, field)
    status, answer = await site.put("2101", ["orders"])
    assert status == 422 and "JSON object" in answer["error"]
    assert site.agents.read_text(encoding="utf-8") == before


async def test_an_edit_the_loader_rejects_is_422_with_its_errors_and_nothing_changes(site: Site) -> None:
    """Someone broke another agent by hand (the watcher kept the old config): the edit is refused with
    the loader's own messages, and the file stays as it was."""
    broken = site.agents.read_text(encoding="utf-8").replace("secret: demo-2108-pw", "secret: short")
    site.agents.write_text(broken, encoding="utf-8")

    status, answer = await site.put("2101", {"skills": {"orders": 1}})

    assert status == 422
    assert "unchanged" in answer["error"]
    [error] = answer["errors"]
    assert error.startswith(f"{site.agents}:")
    assert "at least 8 characters" in error
    assert site.agents.read_text(encoding="utf-8") == broken
    assert dict(site.service.distributor.config.agents[0].skills) == {"orders": 5, "returns": 2}


async def test_an_unknown_agent_is_404_and_the_file_is_untouched(site: Site) -> None:
    before = site.agents.read_text(encoding="utf-8")
    status, answer = await site.put("2999", {"skills": {"orders": 1}})
    assert status == 404 and answer["id"] == "2999"
    assert site.agents.read_text(encoding="utf-8") == before


async def test_without_an_editor_the_route_says_so() -> None:
    service = AcdService(
        config=_shipped_config(),
        ari=FakeAri(),
        legs=LegRegistry(),
        submit=lambda write: None,
        settings=AcdSettings(),
    )
    app = web.Application()
    add_acd_routes(app, AcdWebDeps(service=service, get_call=noop, report=noop))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.put("/api/agents/2101/skills", json={"skills": {"orders": 1}})
        assert response.status == 503


def _shipped_config() -> AcdConfig:
    config, errors = load_acd(DEFAULT_AGENTS_FILE, DEFAULT_QUEUES_FILE)
    assert config is not None, errors
    return config


async def test_the_shipped_file_itself_is_never_edited() -> None:
    runtime = AcdRuntime(
        files=AcdFiles(None, None),
        ari=FakeAri(),  # type: ignore[arg-type]
        legs=LegRegistry(),
        submit=lambda write: None,
        settings=AcdSettings(),
    )
    before = DEFAULT_AGENTS_FILE.read_bytes()
    with pytest.raises(FileRejected) as caught:
        await runtime.edit_agent("2101", SkillsEdit({"orders": 1}))
    assert "IVR_AGENTS_FILE" in caught.value.errors[0]
    assert DEFAULT_AGENTS_FILE.read_bytes() == before


def test_the_controllers_agents_file_defaults_to_a_copy_in_the_data_dir(tmp_path: Path) -> None:
    files = AcdFiles.in_data_dir(None, None, tmp_path)
    assert files == AcdFiles(tmp_path / "agents.yaml", None)
    assert files.paths() == (tmp_path / "agents.yaml", DEFAULT_QUEUES_FILE)  # queues: read in place
    assert files.paths()[0].read_text() == DEFAULT_AGENTS_FILE.read_text()
    own, queues = tmp_path / "site-agents.yaml", tmp_path / "site-queues.yaml"
    assert AcdFiles.in_data_dir(own, queues, tmp_path) == AcdFiles(own, queues)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agents.yaml"]
