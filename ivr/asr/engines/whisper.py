"""Whisper (CTranslate2, via faster-whisper) with closed-set decisions, for English and Japanese.

Whisper transcribes freely; the decision is closed-set on top of the transcript:

- **menu** (``words`` = the options' phrases): the initial prompt lists the phrases, so Whisper
  spells them as the menu does. The transcript is normalised and must contain exactly one phrase as
  whole words (English) or as a substring (Japanese, written without spaces), or, failing that, be
  close to exactly one phrase (similarity ≥ :data:`FUZZY_MIN` and clearly ahead of the next).
  Anything else, or two options at once, is no match: never a guess.
- **digits** (``words == (DIGITS,)``): no prompt in English, the digit words in Japanese; the transcript
  must be nothing but digits and digit words (:mod:`ivr.asr.numbers`) and comes back as ``"4271"``.

Whisper's own confidence gates both: a transcript whose mean token log-probability is below
:data:`DIGITS_MIN_AVG_LOGPROB` / :data:`MENU_MIN_AVG_LOGPROB`, that Whisper itself thinks is no speech,
or that repeats itself (compression ratio, Whisper's hallucination test: noise under a digit prompt
gives "5 5 5 5 …") is rejected, and decoding stops after :data:`DIGIT_TOKENS_PER_SECOND` tokens per second of
audio. Endpointing is done upstream, so Whisper's VAD filter is off. The encoder runs over the utterance
padded to 10 s, not Whisper's 30 s (:mod:`ivr.asr.engines.whisper_decode`): ≈5× less CPU.
``confidence = exp(mean log-probability) × match score``.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ivr.asr.engines import Recognition
from ivr.asr.engines.whisper_decode import WINDOW_MIN_FRAMES, WindowDecoder
from ivr.asr.grammar import phrases, wants_digits
from ivr.asr.numbers import spoken_digits
from ivr.asr.whisper_model import is_model_dir

log = logging.getLogger(__name__)

BEAM_SIZE = 2
SAMPLE_RATE = 16000
DIGITS_MIN_AVG_LOGPROB = -1.0  # a digit string's mean token log-probability below this: guessed
MENU_MIN_AVG_LOGPROB = -2.0  # one short word has few tokens, so its mean is noisier: a lower bar
MAX_NO_SPEECH = 0.6  # Whisper's no-speech probability: above this a digit string is rejected unless …
DIGITS_SURE_LOGPROB = -0.5  # … its mean log-probability is at least this (short windows raise no-speech)
SILENCE_LOGPROB = -1.0  # … and any segment whose mean log-probability is also below this is silence
MAX_COMPRESSION_RATIO = 2.4  # a digit string that compresses this well is a repetition loop (noise)
DIGIT_TOKENS_PER_SECOND = 8  # decoding a digit string stops after this many tokens per second (+ 8)
MENU_MAX_TOKENS = 16  # a menu answer is a word or two; a list of options repeated is cut short
FUZZY_MIN = 0.8  # difflib ratio a transcript needs to count as a near-miss of one phrase
FUZZY_MARGIN = 0.1  # … and this far ahead of the next-best phrase
# English: no prompt. "Digits: 0 1 2 … 9." dropped or repeated digits at the start of a string (16 of
# 20 Allison strings right, against 20 of 20 without; bench.speech). Japanese in kana: with "0 1 2 …"
# Whisper counted on ("3 4 5 5 5 …") over espeak-ng's Japanese digits
DIGIT_PROMPTS = {
    "en": "",
    "ja": "ゼロ、いち、に、さん、よん、ご、ろく、なな、はち、きゅう",
}
_WORD = re.compile(r"\w+")


class WhisperUnavailable(RuntimeError):
    """faster-whisper or the model directory is missing or unreadable."""


def _import_faster_whisper() -> Any:
    import faster_whisper

    return faster_whisper


class WhisperEngine:
    """One loaded model shared by all threads (CTranslate2 runs ``workers`` decodes in parallel)."""

    def __init__(
        self, model_dir: Path, *, workers: int = 1, cpu_threads: int = 1, window_min: int = WINDOW_MIN_FRAMES
    ) -> None:
        try:
            faster_whisper = _import_faster_whisper()
        except ImportError as exc:
            raise WhisperUnavailable("the faster-whisper package is not installed") from exc
        model_dir = Path(model_dir)
        if not is_model_dir(model_dir):
            raise WhisperUnavailable(
                f"{model_dir} is not a Whisper model directory (no model.bin/config.json; "
                "run `ivr asr assemble`)"
            )
        try:
            self._model = faster_whisper.WhisperModel(
                str(model_dir),
                device="cpu",
                compute_type="int8",
                cpu_threads=cpu_threads,
                num_workers=workers,
            )
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError for unreadable models
            raise WhisperUnavailable(f"faster-whisper could not load {model_dir}: {exc}") from exc
        self.model_dir = model_dir
        self.multilingual = bool(getattr(self._model, "model", None) and self._model.model.is_multilingual)
        self.decoder = WindowDecoder(self._model, beam_size=BEAM_SIZE, window_min=window_min)

    def warm_up(self) -> None:
        """Nothing per thread: the model is shared."""

    def transcribe(
        self, samples16k: npt.NDArray[np.int16], lang: str, prompt: str, max_tokens: int
    ) -> Heard | None:
        """What Whisper heard (None: nothing). Up to 30 s: one decode over a short encoder window
        (:mod:`ivr.asr.engines.whisper_decode`); longer audio goes through faster-whisper's 30 s windows.
        Segments Whisper itself calls silence are left out."""
        audio = samples16k.astype(np.float32) / 32768.0
        language = lang.split("-", 1)[0].casefold() if self.multilingual else None
        if audio.size <= self.decoder.max_samples:
            d = self.decoder.transcribe(audio, language, prompt, max_tokens)
            if not d.text or (d.no_speech > MAX_NO_SPEECH and d.logprob < SILENCE_LOGPROB):
                return None
            return Heard(d.text, d.logprob, d.no_speech, d.compression)
        segments, _info = self._model.transcribe(
            audio,
            language=language,
            task="transcribe",
            beam_size=BEAM_SIZE,
            temperature=0.0,
            initial_prompt=prompt,
            condition_on_previous_text=False,
            without_timestamps=True,
            vad_filter=False,
            max_new_tokens=max_tokens,
        )
        texts: list[str] = []
        logprob = no_speech = compression = 0.0
        tokens = 0
        for segment in segments:
            if segment.no_speech_prob > MAX_NO_SPEECH and segment.avg_logprob < SILENCE_LOGPROB:
                continue
            count = max(1, len(segment.tokens))
            texts.append(segment.text)
            logprob += segment.avg_logprob * count
            tokens += count
            no_speech = max(no_speech, segment.no_speech_prob)
            compression = max(compression, segment.compression_ratio)
        text = "".join(texts).strip()
        if not text or tokens == 0:
            return None
        return Heard(text, logprob / tokens, no_speech, compression)

    def recognize(
        self, samples16k: npt.NDArray[np.int16], words: Sequence[str], lang: str
    ) -> Recognition | None:
        if samples16k.size == 0:
            return None
        if wants_digits(words):
            return self._digits(samples16k, lang)
        wanted = phrases(words)
        if not wanted:
            return None
        heard = self.transcribe(samples16k, lang, menu_prompt(wanted, lang), MENU_MAX_TOKENS)
        if heard is None or heard.logprob < MENU_MIN_AVG_LOGPROB:
            log.debug("whisper (%s): menu: %s rejected", lang, heard)
            return None
        choice = choose(heard.text, wanted)
        log.debug("whisper (%s): menu: %s -> %s", lang, heard, choice)
        if choice is None:
            return None
        phrase, score = choice
        return phrase, math.exp(heard.logprob) * score

    def _digits(self, samples16k: npt.NDArray[np.int16], lang: str) -> Recognition | None:
        prompt = DIGIT_PROMPTS.get(lang.split("-", 1)[0], DIGIT_PROMPTS["en"])
        max_tokens = int(DIGIT_TOKENS_PER_SECOND * samples16k.size / SAMPLE_RATE) + 8
        heard = self.transcribe(samples16k, lang, prompt, max_tokens)
        if (
            heard is None
            or heard.logprob < DIGITS_MIN_AVG_LOGPROB
            or (heard.no_speech > MAX_NO_SPEECH and heard.logprob < DIGITS_SURE_LOGPROB)
            or heard.compression > MAX_COMPRESSION_RATIO
        ):
            log.debug("whisper (%s): digits: %s rejected", lang, heard)
            return None
        digits = spoken_digits(heard.text, lang)
        log.debug("whisper (%s): digits: %s -> %s", lang, heard, digits)
        return None if digits is None else (digits, math.exp(heard.logprob))


@dataclass(frozen=True)
class Heard:
    """One transcription: its text, mean token log-probability, and Whisper's no-speech probability
    and compression ratio (the highest over its segments)."""

    text: str
    logprob: float
    no_speech: float
    compression: float


def menu_prompt(wanted: Sequence[str], lang: str) -> str:
    """The initial prompt for a menu: its phrases, space-separated without punctuation. (A comma list
    made Whisper continue the list: "return, return, return, …"; measured on the shop menu.)"""
    if lang.startswith("ja"):
        return "、".join(wanted)
    return " ".join(wanted)


def _normalised(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_WORD.findall(folded))


def _spaced(text: str) -> bool:
    """Does this script separate words with spaces (Latin, …) rather than not (Japanese, Chinese)?"""
    return all(ord(ch) < 0x2E80 for ch in text)


def choose(transcript: str, wanted: Sequence[str]) -> tuple[str, float] | None:
    """The one phrase of ``wanted`` the transcript says, with a match score in 0..1, or None."""
    said = _normalised(transcript)
    if not said:
        return None
    candidates = {phrase: _normalised(phrase) for phrase in wanted}
    hits = [p for p, norm in candidates.items() if norm and _contains(said, norm)]
    # "returns" also contains "return" (Japanese substrings): keep the longest of nested hits
    hits = [p for p in hits if not any(o != p and candidates[p] in candidates[o] for o in hits)]
    if len(hits) == 1:
        return hits[0], 1.0
    if hits:
        return None  # two options in one utterance: ask again rather than pick one
    scored = sorted(
        ((difflib.SequenceMatcher(None, said, norm).ratio(), p) for p, norm in candidates.items() if norm),
        reverse=True,
    )
    if not scored:
        return None
    best, phrase = scored[0]
    # the margin is to phrases that are not variants of the best one ("return" / "returns")
    top = candidates[phrase]
    rivals = [score for score, p in scored[1:] if candidates[p] not in top and top not in candidates[p]]
    runner_up = rivals[0] if rivals else 0.0
    if best >= FUZZY_MIN and best - runner_up >= FUZZY_MARGIN:
        return phrase, best
    return None


def _contains(said: str, phrase: str) -> bool:
    if _spaced(phrase):
        return f" {phrase} " in f" {said} "
    return phrase.replace(" ", "") in said.replace(" ", "")
