"""The short encoder window: its size, the fall-back to 30 s when a decode loops, and a real decode."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from ivr.asr.engines.whisper import WhisperEngine
from ivr.asr.engines.whisper_decode import (
    FULL_FRAMES,
    WINDOW_MIN_FRAMES,
    Decoded,
    WindowDecoder,
    compression_ratio,
    window_frames,
)
from ivr.asr.whisper_model import default_model_dir, is_model_dir
from tests.asr.accuracy import telephone, tools_available


@pytest.mark.parametrize(
    ("content", "expected"),
    [(201, WINDOW_MIN_FRAMES), (1203, 1204), (1500, 1500), (2999, FULL_FRAMES), (4500, FULL_FRAMES)],
)
def test_the_window_is_the_utterance_padded_to_the_minimum_and_even(content: int, expected: int) -> None:
    assert window_frames(content) == expected


def test_a_repetition_loop_compresses_well_and_digits_do_not() -> None:
    assert compression_ratio("6 2 1 7 " * 12) > 2.4
    assert compression_ratio("4 2 7 1") < 2.4
    assert compression_ratio("") == 0.0


class ScriptedDecoder(WindowDecoder):
    """No model: each decode answers from a script keyed by the window it was given."""

    def __init__(self, by_window: dict[int, Decoded]) -> None:
        self.by_window = by_window
        self.windows: list[int] = []
        self.window_min = WINDOW_MIN_FRAMES
        self.decodes = self.fallbacks = 0

    def features(self, audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        return np.zeros((80, audio.size // 160), np.float32)

    def decode(
        self, features: Any, language: str | None, prompt: str, max_tokens: int, frames: int
    ) -> Decoded:
        self.windows.append(frames)
        return self.by_window[frames]


def _decoded(text: str, *, ended: bool, frames: int) -> Decoded:
    return Decoded(text, -0.2, 0.1, compression_ratio(text), ended, frames)


def test_a_short_decode_that_ends_is_kept() -> None:
    decoder = ScriptedDecoder({WINDOW_MIN_FRAMES: _decoded("4 2 7 1", ended=True, frames=WINDOW_MIN_FRAMES)})
    result = decoder.transcribe(np.zeros(32000, np.float32), "en", "", 40)
    assert result.text == "4 2 7 1" and decoder.windows == [WINDOW_MIN_FRAMES]


@pytest.mark.parametrize(
    "short",
    [
        _decoded("6 2 1 7 6 2 1", ended=False, frames=WINDOW_MIN_FRAMES),  # the token budget ran out
        _decoded("6 2 1 7 " * 12, ended=True, frames=WINDOW_MIN_FRAMES),  # ended, but a loop
    ],
)
def test_a_short_decode_that_loops_is_done_again_over_30_seconds(short: Decoded) -> None:
    full = _decoded("6 2 1 7", ended=True, frames=FULL_FRAMES)
    decoder = ScriptedDecoder({WINDOW_MIN_FRAMES: short, FULL_FRAMES: full})
    result = decoder.transcribe(np.zeros(32000, np.float32), "en", "", 40)
    assert result == full and decoder.windows == [WINDOW_MIN_FRAMES, FULL_FRAMES]
    assert (decoder.decodes, decoder.fallbacks) == (1, 1)


def test_a_real_model_decodes_a_word_over_the_short_window() -> None:
    pytest.importorskip("faster_whisper")
    if not tools_available() or not is_model_dir(default_model_dir()):
        pytest.skip("espeak-ng, sox and the assembled Whisper model are needed")
    engine = WhisperEngine(default_model_dir())
    with tempfile.TemporaryDirectory() as tmp:
        audio = telephone("operator", "en-us", 160, Path(tmp)).astype(np.float32) / 32768.0
    decoder = WindowDecoder(engine._model, beam_size=2)
    result = decoder.transcribe(audio, "en", "order return operator", 16)
    assert result.frames == WINDOW_MIN_FRAMES and result.ended
    assert "operator" in result.text.casefold()
