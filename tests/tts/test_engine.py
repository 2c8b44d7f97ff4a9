from __future__ import annotations

import logging
from pathlib import Path

import pytest

from ivr.tts.engine import EspeakSynthesizer, SynthesisError


@pytest.mark.parametrize(("text", "voice", "warned"), [
    ("ご注文は1番", "jpx/ja", True),  # espeak-ng says "Chinese letter" for each kanji
    ("ごちゅうもんわ いちばん", "jpx/ja", False),
    ("ご注文は1番", "openjtalk/mei_normal", False),  # never reaches espeak in practice; no false alarm
])  # fmt: skip
async def test_espeak_warns_about_kanji_only_for_its_japanese_voice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str, voice: str, warned: bool
) -> None:
    synth = EspeakSynthesizer(python=str(tmp_path / "no-python"))
    with caplog.at_level(logging.WARNING, logger="ivr.tts"), pytest.raises(SynthesisError):
        await synth.synthesize(text, voice, 160, tmp_path / "a.wav")
    assert any("kanji" in r.getMessage() for r in caplog.records) is warned
