"""One Whisper decode of one utterance, with the encoder run over the utterance, not 30 s.

Whisper's encoder is trained on 30 s windows (3000 mel frames); faster-whisper pads every utterance to
that, and on this 2-core box the encoder then costs ≈1.5 s of CPU whatever the utterance's length.
CTranslate2 accepts shorter feature windows: the utterance padded to :data:`WINDOW_MIN_FRAMES`
(10 s) costs ≈0.2 s. The model sees less padding than it was trained on and then sometimes loops
("6 2 1 7 6 2 1 7 …") instead of ending; a decode that does not end by itself within its token budget,
or whose text repeats itself (compression ratio), is done again over the full 30 s window. Measured
by ``python -m bench.speech``; see docs/speech.md.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FULL_FRAMES = 3000  # Whisper's own window: 30 s of 10 ms frames
WINDOW_MIN_FRAMES = 1000  # the short window: the utterance padded to at least 10 s
MAX_COMPRESSION_RATIO = 2.4  # text that compresses this well is a repetition loop
MAX_LENGTH = 448  # Whisper's longest token sequence (prompt + generated)


@dataclass(frozen=True)
class Decoded:
    """One decode: text, mean token log-probability (faster-whisper's formula), no-speech probability,
    compression ratio, whether it ended by itself (end-of-text within the budget), and the window."""

    text: str
    logprob: float
    no_speech: float
    compression: float
    ended: bool
    frames: int


def compression_ratio(text: str) -> float:
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


def window_frames(content: int, minimum: int = WINDOW_MIN_FRAMES) -> int:
    """The encoder window for ``content`` frames: at least ``minimum``, even, at most 30 s."""
    frames = max(content + content % 2, minimum)
    return min(frames, FULL_FRAMES)


class WindowDecoder:
    """Encoder + greedy/beam decoder of a loaded faster-whisper ``WhisperModel`` (shared; thread-safe
    as CTranslate2 is)."""

    def __init__(self, model: Any, *, beam_size: int, window_min: int = WINDOW_MIN_FRAMES) -> None:
        import ctranslate2  # type: ignore[import-untyped]
        from faster_whisper.tokenizer import Tokenizer

        self._ct2 = ctranslate2
        self._model = model
        self._tokenizer_type = Tokenizer
        self._tokenizers: dict[str | None, Any] = {}
        self.beam_size = beam_size
        self.window_min = window_min
        self.max_samples = FULL_FRAMES * model.feature_extractor.hop_length
        self.decodes = 0  # transcriptions (counters for benchmarks; not exact under threads)
        self.fallbacks = 0  # … of which were done again over the full window

    def _tokenizer(self, language: str | None) -> Any:
        tok = self._tokenizers.get(language)
        if tok is None:
            tok = self._tokenizer_type(
                self._model.hf_tokenizer,
                self._model.model.is_multilingual,
                task="transcribe",
                language=language,
            )
            self._tokenizers[language] = tok
        return tok

    def features(self, audio: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Log-mel features of the audio, (n_mels, frames), without faster-whisper's extra last frame."""
        feats: npt.NDArray[np.float32] = self._model.feature_extractor(audio)
        return feats[:, :-1]

    def decode(
        self,
        features: npt.NDArray[np.float32],
        language: str | None,
        prompt: str,
        max_tokens: int,
        frames: int,
    ) -> Decoded:
        """Encode ``features`` padded (zeros, as faster-whisper pads) or cut to ``frames``, and decode."""
        window = np.zeros((1, features.shape[0], frames), np.float32)
        used = min(frames, features.shape[1])
        window[0, :, :used] = features[:, :used]
        model = self._model.model
        encoded = model.encode(self._ct2.StorageView.from_array(window), to_cpu=False)
        tok = self._tokenizer(language)
        prefix: list[int] = []
        if prompt.strip():
            prefix = [tok.sot_prev, *tok.encode(" " + prompt.strip())[-(MAX_LENGTH // 2 - 1) :]]
        tokens = [*prefix, *tok.sot_sequence, tok.no_timestamps]
        budget = max(1, min(max_tokens, MAX_LENGTH - len(tokens)))
        result = model.generate(
            encoded,
            [tokens],
            beam_size=self.beam_size,
            max_length=len(tokens) + budget,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        ids = result.sequences_ids[0]
        logprob = result.scores[0] * len(ids) / (len(ids) + 1)  # faster-whisper's mean log-probability
        text = tok.decode(ids).strip()
        return Decoded(
            text, logprob, result.no_speech_prob, compression_ratio(text), len(ids) < budget, frames
        )

    def transcribe(
        self, audio: npt.NDArray[np.float32], language: str | None, prompt: str, max_tokens: int
    ) -> Decoded:
        """The short window first; the full 30 s window when that loops (see the module docstring)."""
        self.decodes += 1
        features = self.features(audio)
        short = window_frames(features.shape[1], self.window_min)
        decoded = self.decode(features, language, prompt, max_tokens, short)
        if short < FULL_FRAMES and (not decoded.ended or decoded.compression > MAX_COMPRESSION_RATIO):
            self.fallbacks += 1
            decoded = self.decode(features, language, prompt, max_tokens, FULL_FRAMES)
        return decoded
