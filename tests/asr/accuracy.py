"""Recognition accuracy on the telephone path: espeak-ng menu words → 8 kHz μ-law → 16 kHz → endpointing
→ PocketSphinx with the menu's grammar. ``python -m tests.asr.accuracy`` prints the figures docs/speech.md
quotes; tests/asr/engines/test_sphinx.py asserts a floor on them."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ivr.asr.endpoint import Endpointer
from ivr.asr.engines import Recognizer
from ivr.flows.verbs.base import speech_matches
from ivr.testing.rtp_pcap import load_sound_file, mulaw_decode, mulaw_encode

# The shop's English main menu (ivr/flows/defaults/shop.yaml): option -> words
MAIN_MENU: dict[str, tuple[str, ...]] = {
    "1": ("order", "orders"),
    "2": ("return", "returns", "exchange"),
    "3": ("complaint", "complaints"),
    "4": ("other", "inquiry", "question"),
    "0": ("operator", "agent"),
}
# (what the caller says, espeak voice, words per minute)
UTTERANCES: list[tuple[str, str, int]] = [
    (word, voice, speed)
    for word, voice, speed in [
        ("order", "en-us", 160),
        ("orders", "en", 175),
        ("return", "en-us", 175),
        ("returns", "en", 150),
        ("exchange", "en-us", 175),
        ("complaint", "en-us", 150),
        ("complaints", "en", 175),
        ("other", "en-us", 175),
        ("inquiry", "en", 160),
        ("question", "en-us", 175),
        ("operator", "en-us", 175),
        ("operator", "en", 140),
        ("agent", "en-us", 160),
        ("agent", "en", 175),
        ("order", "en+f3", 175),
        ("return", "en-us+m3", 160),
        ("complaint", "en+f2", 160),
        ("question", "en-us+f4", 150),
        ("exchange", "en", 140),
        ("other", "en+m2", 160),
    ]
]
OUT_OF_GRAMMAR = ["weather", "banana", "hello there", "tomorrow"]


@dataclass(frozen=True)
class Score:
    correct: int
    wrong: int
    rejected: int
    false_accepts: int  # out-of-grammar utterances that were taken as an option
    out_of_grammar: int

    @property
    def total(self) -> int:
        return self.correct + self.wrong + self.rejected


def telephone(text: str, voice: str, speed: int, workdir: Path) -> npt.NDArray[np.int16]:
    """espeak-ng → 8 kHz → G.711 μ-law round trip → 16 kHz (sox), as a caller reaches externalMedia."""
    wav = workdir / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
    narrow = mulaw_decode(mulaw_encode(load_sound_file(wav)))
    wide = subprocess.run(
        [
            "sox",
            "-t",
            "raw",
            "-r",
            "8000",
            "-e",
            "signed-integer",
            "-b",
            "16",
            "-c",
            "1",
            "-L",
            "-",
            "-t",
            "raw",
            "-r",
            "16000",
            "-e",
            "signed-integer",
            "-b",
            "16",
            "-L",
            "-",
        ],
        input=narrow.tobytes(),
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(wide, dtype="<i2").astype(np.int16)


def option_of(text: str) -> str | None:
    for key, words in MAIN_MENU.items():
        if any(speech_matches(text, w) for w in words):
            return key
    return None


def hear(engine: Recognizer, audio: npt.NDArray[np.int16], words: list[str]) -> str | None:
    """Endpoint a call-like stream (silence, the word, silence) and recognise its utterances."""
    stream = np.concatenate([np.zeros(8000, np.int16), audio, np.zeros(16000, np.int16)])
    for utterance in Endpointer().feed(stream):
        result = engine.recognize(utterance.samples, words, "en")
        if result is not None:
            return result[0]
    return None


def measure(engine: Recognizer) -> tuple[Score, list[str]]:
    words = [w for ws in MAIN_MENU.values() for w in ws]
    correct = wrong = rejected = false_accepts = 0
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for text, voice, speed in UTTERANCES:
            heard = hear(engine, telephone(text, voice, speed, Path(tmp)), words)
            if heard is None:
                rejected += 1
            elif option_of(heard) == option_of(text):
                correct += 1
            else:
                wrong += 1
            lines.append(f"{text:>10} {voice:>9} {speed} wpm -> {heard}")
        for text in OUT_OF_GRAMMAR:
            heard = hear(engine, telephone(text, "en-us", 175, Path(tmp)), words)
            false_accepts += heard is not None
            lines.append(f"{text:>10} (not an option) -> {heard}")
    return Score(correct, wrong, rejected, false_accepts, len(OUT_OF_GRAMMAR)), lines


def tools_available() -> bool:
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


if __name__ == "__main__":
    from ivr.asr.engines.sphinx import SphinxEngine

    score, lines = measure(SphinxEngine())
    print("\n".join(lines))
    print(
        f"menu words: {score.correct}/{score.total} right, {score.wrong} wrong option, "
        f"{score.rejected} rejected; out of grammar: "
        f"{score.false_accepts}/{score.out_of_grammar} taken as an option"
    )
