"""Bridge recordings and live-recording mute/pause: Asterisk 22's paths and parameters."""

from __future__ import annotations

from ivr.ari.client import AriClient
from ivr.ari.models import LiveRecording
from tests.ari.fake_ari import FakeAri

NAME = "2026-12-01/call-1-1"
QUOTED = "2026-12-01%2Fcall-1-1"


async def test_bridge_record_sends_name_and_wav(fake: FakeAri, client: AriClient) -> None:
    fake.reply("POST", "/bridges/b-1/record", 201, {"name": NAME, "state": "queued", "format": "wav"})
    rec = await client.bridges.record("b-1", name=NAME)
    assert isinstance(rec, LiveRecording)
    assert rec.name == NAME
    sent = fake.requests[-1]
    assert sent.param("name") == [NAME]
    assert sent.param("format") == ["wav"]
    assert sent.param("ifExists") == ["fail"]
    assert sent.param("terminateOn") == ["none"]


async def test_mute_and_unmute_quote_the_slash_of_the_name(fake: FakeAri, client: AriClient) -> None:
    await client.recordings.mute(NAME)
    await client.recordings.unmute(NAME)
    await client.recordings.pause(NAME)
    await client.recordings.unpause(NAME)
    assert [(r.method, r.path) for r in fake.requests] == [
        ("POST", f"/recordings/live/{QUOTED}/mute"),
        ("DELETE", f"/recordings/live/{QUOTED}/mute"),
        ("POST", f"/recordings/live/{QUOTED}/pause"),
        ("DELETE", f"/recordings/live/{QUOTED}/pause"),
    ]
