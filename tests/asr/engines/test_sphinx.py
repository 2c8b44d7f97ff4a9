"""PocketSphinx recognises real (espeak-ng) speech through the telephone path, and rejects noise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ivr.asr.engines.sphinx import SphinxEngine
from tests.asr.accuracy import hear, measure, telephone, tools_available

pytest.importorskip("pocketsphinx")
pytestmark = pytest.mark.skipif(not tools_available(), reason="espeak-ng and sox are needed")

LANGUAGE_MENU = ["English", "Japanese"]
MAIN_MENU = [
    "order",
    "orders",
    "return",
    "returns",
    "exchange",
    "complaint",
    "complaints",
    "operator",
    "agent",
]


@pytest.fixture(scope="module")
def engine() -> SphinxEngine:
    return SphinxEngine()


@pytest.mark.parametrize(
    ("said", "words"), [("English", LANGUAGE_MENU), ("operator", MAIN_MENU), ("order", MAIN_MENU)]
)
def test_menu_words_are_recognised(engine: SphinxEngine, tmp_path: Path, said: str, words: list[str]) -> None:
    assert hear(engine, telephone(said, "en-us", 175, tmp_path), words) == said.casefold()


def test_compound_words_get_a_pronunciation(engine: SphinxEngine, tmp_path: Path) -> None:
    audio = telephone("call back", "en-us", 160, tmp_path)
    assert hear(engine, audio, ["callback", "message"]) == "callback"


def test_silence_and_noise_are_not_words(engine: SphinxEngine) -> None:
    rng = np.random.default_rng(7)
    assert engine.recognize(np.zeros(16000, np.int16), MAIN_MENU, "en") is None
    for sigma in (300, 3000):
        noise = rng.normal(0, sigma, 16000).astype(np.int16)
        assert engine.recognize(noise, MAIN_MENU, "en") is None


def test_no_usable_words_means_no_result(engine: SphinxEngine, tmp_path: Path) -> None:
    audio = telephone("English", "en-us", 175, tmp_path)
    assert engine.recognize(audio, ["返品", "xqzzt"], "en") is None
    assert engine.recognize(audio, [], "en") is None


def test_accuracy_on_the_shop_main_menu_does_not_regress(engine: SphinxEngine) -> None:
    score, lines = measure(engine)
    report = "\n".join(lines)
    # Measured 17/20 when written (docs/speech.md); a floor well below that catches a broken pipeline.
    assert score.correct >= 15, report
    assert score.false_accepts <= 3, report
