from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ivr.tts.engine import EspeakSynthesizer, SynthesisError
from ivr.tts.natural import WorkerSynthesizer
from ivr.tts.select import ESPEAK_VOICES, VoiceRouter, choose_tts, natural_voices, tts_from_env
from ivr.tts.voices import OPENJTALK_VOICE_ID, PIPER_VOICE_ID, openjtalk_voice, piper_voice
from tests.tts.fakes import ToneSynthesizer

natural_installed = not openjtalk_voice().missing() and not piper_voice().missing()


def test_espeak_mode_uses_espeak_for_every_language() -> None:
    choice = tts_from_env({"IVR_TTS": "espeak"})
    assert choice.voices == ESPEAK_VOICES
    assert isinstance(choice.synthesizer, EspeakSynthesizer)


@pytest.mark.skipif(not natural_installed, reason="natural voice packages not installed")
def test_natural_is_the_default_open_jtalk_for_ja_piper_for_en() -> None:
    choice = tts_from_env({})
    assert choice.voices == {"ja": OPENJTALK_VOICE_ID, "en": PIPER_VOICE_ID}
    assert isinstance(choice.synthesizer, VoiceRouter)


def test_a_missing_voice_falls_back_to_espeak_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    candidates = natural_voices(htsvoice=tmp_path / "gone.htsvoice", piper_model=tmp_path / "gone.onnx")
    with caplog.at_level(logging.WARNING, logger="ivr.tts"):
        choice = choose_tts("natural", candidates=candidates)
    assert choice.voices == ESPEAK_VOICES
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2
    assert "Open JTalk voice unavailable" in warnings[0] and "espeak-ng" in warnings[0]
    assert "Piper voice unavailable" in warnings[1]


async def test_a_voice_that_cannot_load_is_spoken_by_espeak_under_a_new_version(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "broken.htsvoice"
    broken.write_bytes(b"not a voice")
    espeak = ToneSynthesizer()
    router = VoiceRouter({OPENJTALK_VOICE_ID: (WorkerSynthesizer(openjtalk_voice(broken)), "jpx/ja")}, espeak)
    before = await router.version()
    assert before.startswith("openjtalk-") and before.endswith("+tone-1")
    with caplog.at_level(logging.ERROR, logger="ivr.tts"):
        with pytest.raises(SynthesisError, match="cannot load voice"):  # this prompt: the renderer's fallback
            await router.synthesize("はい", OPENJTALK_VOICE_ID, 160, tmp_path / "a.wav")
        assert await router.version() == "tone-1"  # a new cache key: espeak audio never under Open JTalk's
        await router.synthesize("いいえ", OPENJTALK_VOICE_ID, 160, tmp_path / "b.wav")
        await router.synthesize("また", OPENJTALK_VOICE_ID, 160, tmp_path / "c.wav")
    assert espeak.calls == [("いいえ", "jpx/ja"), ("また", "jpx/ja")]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "spoken by espeak-ng jpx/ja" in errors[0]
    assert router.espeak_voice_for(OPENJTALK_VOICE_ID) == "jpx/ja"


async def test_unknown_voices_go_to_espeak(tmp_path: Path) -> None:
    espeak = ToneSynthesizer()
    router = VoiceRouter({}, espeak)
    await router.synthesize("bonjour", "roa/fr", 160, tmp_path / "a.wav")
    assert espeak.calls == [("bonjour", "roa/fr")]
