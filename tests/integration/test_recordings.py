"""Conversations in a recording queue are recorded on the real Asterisk: a SIPp caller queues for
`orders`, a SIPp operator answers; the WAV lands under the recordings folder by day, the call record
links it with the pause span, and the file is served to the bearer token only."""

from __future__ import annotations

import asyncio
import urllib.error
import wave
from pathlib import Path

import pytest

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call, newest_call
from tests.integration.phones import available, log_out, register, until
from tests.integration.recorded_line import NUMBER, fetch, install_flow, live_call

CALLER = "0312229001"


async def test_orders_conversation_is_recorded_paused_and_served(
    pbx: TestPbx, controller: ControllerProcess, site_flows: Path, tmp_path: Path
) -> None:
    install_flow(controller, site_flows)
    operator = await register(pbx, "3109", answer_ms=500, talk_ms=9000)
    try:
        await available(controller, "3109")
        caller = asyncio.create_task(
            call(pbx, tmp_path, service=NUMBER, caller=CALLER, trailing_silence_s=40, timeout_s=60)
        )
        live = await asyncio.to_thread(live_call, controller, CALLER)
        await until(
            lambda: bool(controller.get(f"/api/calls/{live['id']}")[1]["recordings"]), what="recording"
        )
        await asyncio.sleep(2.0)
        status, body = controller.post(f"/api/calls/{live['id']}/recording", {"paused": True})
        assert status == 200 and body["paused"] is True, body
        await asyncio.sleep(2.0)
        status, body = controller.post(f"/api/calls/{live['id']}/recording", {"paused": False})
        assert status == 200 and body["paused"] is False, body
        result = await caller
        assert result.ok, result.describe()
        assert (await operator.hang_up()).successful == 1
    finally:
        await log_out(controller, pbx, "3109")

    record = newest_call(controller, caller=CALLER)
    assert record["queue"] == "orders" and record["agent"] == "3109"

    def ended() -> bool:
        recs = controller.get(f"/api/calls/{record['id']}")[1]["recordings"]
        return bool(recs) and recs[0]["ended_at"] is not None

    await until(ended, within_s=15, what="recording finished and filed")
    [rec] = controller.get(f"/api/calls/{record['id']}")[1]["recordings"]
    assert rec["url"] == f"/api/recordings/{rec['id']}"
    [pause] = rec["pauses"]
    assert pause["reason"] == "supervisor"  # the bearer token acts as an admin
    assert pause["paused_at"] < pause["resumed_at"]
    assert rec["started_at"] <= pause["paused_at"] and pause["resumed_at"] <= rec["ended_at"]

    day = rec["started_at"][:10]
    wav_path = Path(pbx.env["IVR_RECORDINGS_DIR"]) / day / f"{record['id']}-1.wav"
    assert wav_path.is_file(), f"{wav_path} missing"
    with wave.open(str(wav_path)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    # The operator talked 9 s (muted 2 s of it: silence, the file keeps its length).
    assert 6.0 <= seconds <= 12.0, seconds

    with fetch(controller, rec["url"], {"Authorization": f"Bearer {controller.token}"}) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "audio/wav"
        assert resp.read() == wav_path.read_bytes()
    with pytest.raises(urllib.error.HTTPError) as no_token:
        fetch(controller, rec["url"])
    assert no_token.value.code == 401
    for guess in (f"/recordings/{day}/{record['id']}-1.wav", f"/api/recordings/{rec['id'] + 1000}"):
        with pytest.raises(urllib.error.HTTPError) as guessed:
            fetch(controller, guess, {"Authorization": f"Bearer {controller.token}"})
        assert guessed.value.code in (403, 404)
