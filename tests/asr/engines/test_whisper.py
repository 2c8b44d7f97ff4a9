"""Whisper base on real audio: Asterisk's human-recorded digits and espeak-ng menu words, both through
the telephone path (8 kHz, G.711 μ-law, back to 16 kHz); silence and noise are no match."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from ivr.asr.engines.whisper import WhisperEngine, WhisperUnavailable, choose
from ivr.asr.grammar import DIGITS
from ivr.asr.whisper_model import assemble, default_model_dir
from ivr.settings import Settings
from ivr.testing.rtp_pcap import mulaw_decode, mulaw_encode
from tests.asr.accuracy import MAIN_MENU, hear, measure, telephone, tools_available

pytest.importorskip("faster_whisper")
pytestmark = pytest.mark.skipif(not tools_available(), reason="espeak-ng and sox are needed")

SEED = 20251201
STRINGS = 10
SOUNDS = "usr/share/asterisk/sounds/en_US_f_Allison/digits"
LEAD = np.zeros(4800, np.int16)  # 300 ms: what the endpointer keeps before speech
TRAIL = np.zeros(4000, np.int16)  # 250 ms after it
MENU_WORDS = [w for ws in MAIN_MENU.values() for w in ws]


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    target = default_model_dir()
    assemble(target)  # a no-op when `ivr asr assemble` has run
    return WhisperEngine(target)


def _sox_16k(raw8k: bytes) -> npt.NDArray[np.int16]:
    spec = ["-e", "signed-integer", "-b", "16", "-c", "1", "-L"]
    out = subprocess.run(
        ["sox", "-t", "raw", "-r", "8000", *spec, "-", "-t", "raw", "-r", "16000", *spec, "-"],
        input=raw8k,
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.int16)


@pytest.fixture(scope="module")
def asterisk_digits() -> dict[str, npt.NDArray[np.int16]]:
    """Allison's recorded digits 0–9 (GSM, 8 kHz) as 8 kHz samples."""
    folder = Settings.from_env().pbx_root / SOUNDS
    if not folder.is_dir():
        pytest.skip(f"Asterisk's sounds are not unpacked ({folder}): make pbx-root")
    spec = ["-e", "signed-integer", "-b", "16", "-c", "1", "-L"]
    digits: dict[str, npt.NDArray[np.int16]] = {}
    for digit in "0123456789":
        raw = subprocess.run(
            ["sox", str(folder / f"{digit}.gsm"), "-t", "raw", "-r", "8000", *spec, "-"],
            capture_output=True,
            check=True,
        ).stdout
        digits[digit] = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    return digits


def spoken(number: str, digits: dict[str, npt.NDArray[np.int16]]) -> npt.NDArray[np.int16]:
    """The digits one after another, through μ-law, at 16 kHz, with the endpointer's margins."""
    narrow = np.concatenate([digits[d] for d in number])
    return np.concatenate([LEAD, _sox_16k(mulaw_decode(mulaw_encode(narrow)).tobytes()), TRAIL])


def test_asterisk_digit_strings_are_recognised(
    engine: WhisperEngine, asterisk_digits: dict[str, npt.NDArray[np.int16]]
) -> None:
    rng = random.Random(SEED)
    numbers = ["".join(rng.choice("0123456789") for _ in range(rng.randint(4, 8))) for _ in range(STRINGS)]
    lines: list[str] = []
    right = 0
    cpu = audio_s = 0.0
    for number in numbers:
        audio = spoken(number, asterisk_digits)
        started = time.process_time()
        result = engine.recognize(audio, [DIGITS], "en")
        cpu += time.process_time() - started
        audio_s += audio.size / 16000
        right += result is not None and result[0] == number
        lines.append(f"{number} -> {result}")
    lines.append(f"CPU real-time factor {cpu / audio_s:.2f}")
    assert right >= STRINGS - 1, "\n".join(lines)


def test_a_digit_request_rejects_words(engine: WhisperEngine, tmp_path: Path) -> None:
    audio = np.concatenate([LEAD, telephone("returns", "en-us", 160, tmp_path), TRAIL])
    assert engine.recognize(audio, [DIGITS], "en") is None


def test_menu_words_are_chosen(engine: WhisperEngine) -> None:
    score, lines = measure(engine)
    report = "\n".join(lines)
    assert score.correct >= 18, report
    assert score.wrong <= 1, report
    assert score.false_accepts <= 2, report  # measured 19/20 right, 1 rejected, 1 of 4 false accepts


@pytest.mark.parametrize(
    ("said", "words"), [("English", ["English", "Japanese"]), ("call back", ["callback", "message"])]
)
def test_a_menu_returns_the_phrase_as_written(
    engine: WhisperEngine, tmp_path: Path, said: str, words: list[str]
) -> None:
    heard = hear(engine, telephone(said, "en-us", 160, tmp_path), words)
    assert heard == words[0].casefold()


@pytest.mark.parametrize("said", ["へんぴん", "オペレーター"])
def test_japanese_menu_words_are_chosen(engine: WhisperEngine, tmp_path: Path, said: str) -> None:
    menu = ["注文", "ちゅうもん", "返品", "へんぴん", "苦情", "くじょう", "オペレーター"]
    audio = np.concatenate([LEAD, telephone(said, "ja", 150, tmp_path), TRAIL])
    result = engine.recognize(audio, menu, "ja")
    assert result is not None and result[0] == said


def test_silence_and_noise_are_no_match(engine: WhisperEngine) -> None:
    rng = np.random.default_rng(7)
    streams = [np.zeros(16000, np.int16), *(rng.normal(0, s, 24000).astype(np.int16) for s in (300, 3000))]
    for stream in streams:
        assert engine.recognize(stream, MENU_WORDS, "en") is None
        assert engine.recognize(stream, [DIGITS], "en") is None
        assert engine.recognize(stream, ["へんぴん", "ちゅうもん"], "ja") is None


def test_empty_audio_or_no_words_is_no_match(engine: WhisperEngine, tmp_path: Path) -> None:
    audio = telephone("order", "en-us", 160, tmp_path)
    assert engine.recognize(np.zeros(0, np.int16), MENU_WORDS, "en") is None
    assert engine.recognize(audio, [], "en") is None


def test_a_directory_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WhisperUnavailable, match="ivr asr assemble"):
        WhisperEngine(tmp_path)


@pytest.mark.parametrize(
    ("transcript", "expected"),
    [
        (" Returns.", "returns"),
        ("I'd like to return something", "return"),
        ("Operator, please", "operator"),
        ("New order.", "new order"),  # the longer phrase, not "order" inside it
        ("Retrun", "return"),  # a near miss of one phrase
        ("return an order", None),  # two options: ask again
        ("The weather", None),
        ("", None),
        ("返品です", "返品"),
        ("へんぴん", "へんぴん"),
    ],
)
def test_choose_is_closed_set(transcript: str, expected: str | None) -> None:
    wanted = ["order", "new order", "return", "returns", "operator", "返品", "へんぴん"]
    chosen = choose(transcript, wanted)
    assert (chosen[0] if chosen else None) == expected
