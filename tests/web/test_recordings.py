"""The recordings and listening-in routes: bodies checked, refusals mapped, files served by id only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from ivr.store import CallStore
from ivr.web import WebDeps, build_app
from ivr.web.recordings import RecordingWebDeps, add_recording_routes
from tests.web.conftest import AUTH, TOKEN, flow_status, start_client

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WAV = b"RIFF" + bytes(range(256)) * 8


class Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Features:
    def __init__(self) -> None:
        self.paused: list[tuple[str, bool, str, str | None]] = []
        self.listens: list[tuple[str, str, str]] = []

    async def set_paused(self, call_id: str, paused: bool, reason: str, by: str | None) -> bool:
        if call_id == "idle":
            raise Refused(409, "no recording running")
        self.paused.append((call_id, paused, reason, by))
        return paused

    async def listen(self, call_id: str, mode: str, endpoint: str) -> dict[str, Any]:
        if call_id == "idle":
            raise Refused(409, "call idle has no operator now")
        if call_id == "boom":
            raise RuntimeError("unexpected")
        self.listens.append((call_id, mode, endpoint))
        return {"id": f"leg-{call_id}-listen1", "call_id": call_id, "mode": mode, "endpoint": endpoint}


@pytest.fixture
async def setup(
    store: CallStore, tmp_path: Path
) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], Features, int, Path]]:
    root = tmp_path / "recordings"
    name = "2026-12-01/c1-1"
    (root / "2026-12-01").mkdir(parents=True)
    (root / f"{name}.wav").write_bytes(WAV)
    (tmp_path / "secret.wav").write_bytes(b"not yours")
    await store.call_started("c1", "ch", "03", "", "100", "shop", T0)
    await store.recording_started("c1", name, f"{name}.wav", T0)
    await store.recording_ended(name, T0 + timedelta(seconds=30))
    record = await store.get_call("c1")
    assert record is not None
    features = Features()
    app = build_app(
        WebDeps(store=store, admin_token=TOKEN, ari_connected=lambda: True, flow_status=flow_status)
    )
    add_recording_routes(
        app,
        RecordingWebDeps(
            set_paused=features.set_paused,
            listen=features.listen,
            recording_file=store.recording_file,
            recordings_dir=root,
        ),
    )
    client = await start_client(app)
    try:
        yield client, features, record["recordings"][0]["id"], root
    finally:
        await client.close()


async def test_recording_is_streamed_as_wav_with_ranges(setup: Any) -> None:
    client, _, rec_id, _ = setup
    resp = await client.get(f"/api/recordings/{rec_id}", headers=AUTH)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "audio/wav"
    assert await resp.read() == WAV
    part = await client.get(f"/api/recordings/{rec_id}", headers={**AUTH, "Range": "bytes=4-7"})
    assert part.status == 206
    assert await part.read() == WAV[4:8]
    assert (await client.get(f"/api/recordings/{rec_id}")).status == 401


async def test_recordings_are_not_reachable_by_guessing(setup: Any, store: CallStore) -> None:
    client, _, rec_id, _ = setup
    for guess in (str(rec_id + 1), "0", "-1", "abc", "..%2Fsecret.wav", "2026-12-01%2Fc1-1.wav"):
        resp = await client.get(f"/api/recordings/{guess}", headers=AUTH)
        assert resp.status == 404, guess
    for path in ("/recordings/2026-12-01/c1-1.wav", "/static/../recordings/2026-12-01/c1-1.wav"):
        assert (await client.get(path, headers=AUTH)).status in (403, 404)
    await store.recording_deleted(rec_id, T0 + timedelta(days=91))
    assert (await client.get(f"/api/recordings/{rec_id}", headers=AUTH)).status == 404


async def test_digits_that_are_not_ascii_are_no_recording_id(setup: Any) -> None:
    """Found by tests/integration/test_api_fuzz.py: ``/api/recordings/²`` (a digit to ``str.isdigit``,
    not to ``int``) answered 500."""
    client, _, rec_id, _ = setup
    for raw in ("%C2%B2", "%D9%A3", "1" * 19, "1" * 5000):
        resp = await client.get(f"/api/recordings/{raw}", headers=AUTH)
        assert resp.status == 404, raw
        assert (await resp.json())["error"] == "recording not found"
    assert (await client.get(f"/api/recordings/{rec_id}", headers=AUTH)).status == 200


async def test_a_row_pointing_outside_the_recordings_dir_is_not_served(setup: Any, store: CallStore) -> None:
    client, _, _, _ = setup
    await store.call_started("c2", "ch2", "03", "", "100", "shop", T0)
    await store.recording_started("c2", "evil", "../secret.wav", T0)
    await store.recording_ended("evil", T0)
    record = await store.get_call("c2")
    assert record is not None
    resp = await client.get(record["recordings"][0]["url"], headers=AUTH)
    assert resp.status == 404


async def test_pause_body_and_refusal(setup: Any) -> None:
    client, features, _, _ = setup
    resp = await client.post("/api/calls/c1/recording", json={"paused": True}, headers=AUTH)
    assert resp.status == 200 and await resp.json() == {"call_id": "c1", "paused": True}
    assert features.paused[0][:3] == ("c1", True, "supervisor")
    for bad in ({"paused": "yes"}, {}, {"paused": True, "x": 1}, [True]):
        assert (await client.post("/api/calls/c1/recording", json=bad, headers=AUTH)).status == 422
    resp = await client.post("/api/calls/idle/recording", json={"paused": False}, headers=AUTH)
    assert resp.status == 409 and (await resp.json())["error"] == "no recording running"


async def test_listen_body_and_refusal(setup: Any) -> None:
    client, features, _, _ = setup
    body = {"mode": "whisper", "endpoint": "PJSIP/3109"}
    resp = await client.post("/api/calls/c1/listen", json=body, headers=AUTH)
    assert resp.status == 201 and (await resp.json())["id"] == "leg-c1-listen1"
    assert features.listens == [("c1", "whisper", "PJSIP/3109")]
    assert (await client.post("/api/calls/c1/listen", json={"mode": "listen"}, headers=AUTH)).status == 422
    resp = await client.post("/api/calls/idle/listen", json=body, headers=AUTH)
    assert resp.status == 409 and "no operator" in (await resp.json())["error"]
    assert (await client.post("/api/calls/boom/listen", json=body, headers=AUTH)).status == 500
