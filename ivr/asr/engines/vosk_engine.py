"""Vosk (Kaldi) in grammar mode, for any language a Vosk model directory is configured for."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ivr.asr.engines import Recognition
from ivr.asr.grammar import VOSK_UNKNOWN, phrases, vosk_grammar, wants_digits

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000


class VoskUnavailable(RuntimeError):
    """The vosk package or the model directory is missing or unreadable."""


def _import_vosk() -> Any:
    import vosk

    return vosk


class VoskEngine:
    """One loaded model shared by all threads; one ``KaldiRecognizer`` per utterance."""

    def __init__(self, model_dir: Path) -> None:
        try:
            self._vosk = _import_vosk()
        except ImportError as exc:
            raise VoskUnavailable("the vosk package is not installed") from exc
        model_dir = Path(model_dir)
        if not (model_dir / "am").is_dir() and not (model_dir / "conf").is_dir():
            raise VoskUnavailable(f"{model_dir} is not a Vosk model directory (no am/ or conf/)")
        self._vosk.SetLogLevel(-1)
        try:
            self._model = self._vosk.Model(str(model_dir))
        except Exception as exc:  # vosk raises a bare Exception when the model cannot be created
            raise VoskUnavailable(f"Vosk could not load the model in {model_dir}: {exc}") from exc
        self.model_dir = model_dir

    def warm_up(self) -> None:
        """Nothing per thread: the model is shared."""

    def recognize(
        self, samples16k: npt.NDArray[np.int16], words: Sequence[str], lang: str
    ) -> Recognition | None:
        if wants_digits(words):
            return None  # digit strings need a free-form recogniser (Whisper)
        wanted = phrases(words)
        if not wanted or samples16k.size == 0:
            return None
        recognizer = self._vosk.KaldiRecognizer(self._model, SAMPLE_RATE, vosk_grammar(wanted))
        recognizer.SetWords(True)
        recognizer.AcceptWaveform(np.asarray(samples16k, dtype="<i2").tobytes())
        result = json.loads(recognizer.FinalResult())
        heard = [w for w in result.get("result", []) if w.get("word") and w.get("word") != VOSK_UNKNOWN]
        text = " ".join(str(w["word"]) for w in heard)
        if not text:
            return None
        confidence = float(sum(float(w.get("conf", 0.0)) for w in heard) / len(heard))
        return text, confidence
