"""PocketSphinx 5 (PyPI ``pocketsphinx``) with a JSGF grammar of the menu words: English, 16 kHz.

The acoustic model, dictionary and phone LM are the package's own ``en-us`` data. Each worker thread
has its own decoder (decoders are not thread-safe) and caches the grammars it has compiled.

Rejection: a JSGF grammar always decodes *something*, so the same audio is also decoded with a phone
loop (``allphone``). The per-frame log-likelihood ratio of the grammar's words against the free
phones over the same frames says how well the audio fits the word; far below the phone loop, or a
word stretched or squeezed beyond what speech does, is rejected. ``confidence = exp(ratio / 4)``:
a heuristic in 0..1, not a probability.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ivr.asr.engines import Recognition
from ivr.asr.grammar import jsgf, phrases, sphinx_tokens, split_compound, wants_digits

log = logging.getLogger(__name__)

PHONE_SEARCH = "_phones"
MAX_GRAMMARS = 32  # per thread
REJECT_RATIO = -6.4  # per-frame log-likelihood ratio (nats) below which a word is rejected (conf < 0.2)
MIN_FRAMES_PER_PHONE = 2.0
MAX_FRAMES_PER_PHONE = 30.0  # 10 ms frames: 300 ms per phone is a hum, not a word


def _import_pocketsphinx() -> Any:
    import pocketsphinx  # type: ignore[import-untyped]

    return pocketsphinx


class SphinxUnavailable(RuntimeError):
    """PocketSphinx or its model is missing."""


class SphinxEngine:
    """English menu-word recognition with PocketSphinx (see the module docstring)."""

    def __init__(self, model_dir: Path | None = None) -> None:
        try:
            self._ps = _import_pocketsphinx()
        except ImportError as exc:
            raise SphinxUnavailable("the pocketsphinx package is not installed") from exc
        base = Path(model_dir) if model_dir is not None else Path(self._ps.get_model_path())
        self._hmm = base / "en-us" / "en-us"
        self._dict = base / "en-us" / "cmudict-en-us.dict"
        self._phone_lm = base / "en-us" / "en-us-phone.lm.bin"
        for path in (self._hmm, self._dict, self._phone_lm):
            if not path.exists():
                raise SphinxUnavailable(f"PocketSphinx model file missing: {path}")
        self._local = threading.local()
        self._warned: set[str] = set()
        self._warned_lock = threading.Lock()

    # --- per-thread decoder -----------------------------------------------------------------

    def warm_up(self) -> None:
        self._decoder()

    def _decoder(self) -> Any:
        decoder = getattr(self._local, "decoder", None)
        if decoder is None:
            decoder = self._ps.Decoder(
                hmm=str(self._hmm), dict=str(self._dict), lm=None, loglevel="FATAL", samprate=16000
            )
            decoder.add_allphone_file(PHONE_SEARCH, str(self._phone_lm))
            self._local.decoder = decoder
            self._local.grammars = OrderedDict()
        return decoder

    def _known(self, decoder: Any, word: str) -> bool:
        return decoder.lookup_word(word) is not None

    def _pronounce(self, decoder: Any, token: str) -> bool:
        """Make sure ``token`` is in the dictionary (compounds of two known words are added)."""
        if self._known(decoder, token):
            return True
        parts = split_compound(token, lambda w: self._known(decoder, w))
        if parts is None:
            self._warn_once(token)
            return False
        pron = " ".join(decoder.lookup_word(p) for p in parts)
        decoder.add_word(token, pron, True)
        return True

    def _warn_once(self, token: str) -> None:
        with self._warned_lock:
            if token in self._warned:
                return
            self._warned.add(token)
        log.warning("speech (en): '%s' is not in the PocketSphinx dictionary; it cannot be recognised", token)

    def _search_for(self, decoder: Any, words: Sequence[str]) -> str | None:
        alternatives: list[tuple[str, ...]] = []
        for phrase in phrases(words):
            tokens = sphinx_tokens(phrase)
            if tokens and all(self._pronounce(decoder, t) for t in tokens) and tokens not in alternatives:
                alternatives.append(tokens)
        if not alternatives:
            return None
        key = tuple(alternatives)
        grammars: OrderedDict[tuple[tuple[str, ...], ...], str] = self._local.grammars
        name = grammars.get(key)
        if name is None:
            name = f"g{id(key)}-{len(grammars)}"
            decoder.add_jsgf_string(name, jsgf(alternatives))
            grammars[key] = name
            if len(grammars) > MAX_GRAMMARS:
                _old_key, old_name = grammars.popitem(last=False)
                decoder.remove_search(old_name)
        else:
            grammars.move_to_end(key)
        return name

    # --- recognition --------------------------------------------------------------------------

    def _decode(self, decoder: Any, search: str, audio: bytes) -> tuple[str, list[Any]]:
        decoder.activate_search(search)
        decoder.start_utt()
        decoder.process_raw(audio, full_utt=True)
        decoder.end_utt()
        hyp = decoder.hyp()
        text = hyp.hypstr if hyp is not None else ""
        return text, list(decoder.seg() or [])

    def recognize(
        self, samples16k: npt.NDArray[np.int16], words: Sequence[str], lang: str
    ) -> Recognition | None:
        if wants_digits(words):
            return None  # digit strings need a free-form recogniser (Whisper)
        decoder = self._decoder()
        search = self._search_for(decoder, words)
        if search is None or samples16k.size == 0:
            return None
        audio = _dithered(samples16k).tobytes()
        text, segs = self._decode(decoder, search, audio)
        spoken = [s for s in segs if not s.word.startswith(("<", "[", "+"))]
        if not text.strip() or not spoken:
            return None
        first = min(s.start_frame for s in spoken)
        last = max(s.end_frame for s in spoken)
        frames = last - first + 1
        phones = sum(len((decoder.lookup_word(_base_word(s.word)) or "x").split()) for s in spoken)
        if not MIN_FRAMES_PER_PHONE <= frames / max(phones, 1) <= MAX_FRAMES_PER_PHONE:
            return None
        _ptext, phone_segs = self._decode(decoder, PHONE_SEARCH, audio)
        word_ll = sum(_ln(s.ascore) for s in spoken)
        phone_ll = sum(_ln(s.ascore) * _overlap(s.start_frame, s.end_frame, first, last) for s in phone_segs)
        ratio = (word_ll - phone_ll) / frames
        if ratio < REJECT_RATIO:
            return None
        confidence = min(1.0, math.exp(ratio / 4.0))
        return " ".join(text.split()), confidence


def _ln(probability: float) -> float:
    """PocketSphinx 5 reports acoustic scores as probabilities; back to natural log."""
    return math.log(max(float(probability), 1e-300))


def _dithered(samples: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """Add inaudible noise (σ = 4 LSB, fixed seed: results stay reproducible). Digital silence (μ-law
    0xFF from a SIPp pcap or a muted phone) gives the decoder log(0) features and wrong words."""
    noise = np.random.default_rng(0).normal(0.0, 4.0, samples.size)
    mixed = np.clip(samples.astype(np.float64) + noise, -32768, 32767)
    return mixed.astype("<i2")


def _base_word(word: str) -> str:
    """``return(2)`` (an alternative pronunciation) → ``return``."""
    return word.split("(", 1)[0]


def _overlap(start: int, end: int, first: int, last: int) -> float:
    """The share of frames ``start..end`` that lies inside ``first..last``."""
    inside = min(end, last) - max(start, first) + 1
    return max(0, inside) / max(1, end - start + 1)
