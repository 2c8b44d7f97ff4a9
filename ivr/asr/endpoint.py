"""Energy-based endpointing on 16 kHz audio: where an utterance starts and ends. Pure, no I/O.

Audio is cut into 20 ms frames. A frame is *voiced* when its level is above
``max(threshold_dbfs, noise floor + margin_db)``; the noise floor follows the quietest recent frames
while nobody speaks. Speech starts after ``start_ms`` of consecutive voiced frames (a click is not
speech) and ends after ``hangover_ms`` of unvoiced frames, or when the utterance reaches
``max_utterance_s`` (then the noise floor jumps to that utterance's median level: steady noise
stops counting as speech). Utterances with less than ``min_speech_ms`` of voiced audio are dropped.
Every utterance carries ``preroll_ms`` of audio before the detected start, so soft onsets survive,
and ``tail_ms`` after the last voiced frame (long silences, digital ones above all, hurt recognisers).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

FULL_SCALE = 32768.0
FLOOR_DBFS = -96.0


@dataclass(frozen=True)
class EndpointConfig:
    rate: int = 16000
    frame_ms: int = 20
    threshold_dbfs: float = -42.0
    margin_db: float = 10.0
    start_ms: int = 60
    hangover_ms: int = 500
    preroll_ms: int = 300
    tail_ms: int = 250  # audio kept after the last voiced frame (the rest of the hangover is cut)
    min_speech_ms: int = 150
    max_utterance_s: float = 6.0
    floor_adapt: float = 0.05  # how fast the noise floor rises toward louder background

    @property
    def frame_samples(self) -> int:
        return self.rate * self.frame_ms // 1000

    def frames(self, ms: float) -> int:
        return max(1, math.ceil(ms / self.frame_ms))


def frame_dbfs(frame: npt.NDArray[np.int16]) -> float:
    """RMS level of a frame in dB relative to full scale (digital silence → −96)."""
    if frame.size == 0:
        return FLOOR_DBFS
    rms = float(np.sqrt(np.mean(np.square(frame.astype(np.float64)))))
    if rms < 1.0:
        return FLOOR_DBFS
    return max(FLOOR_DBFS, 20.0 * math.log10(rms / FULL_SCALE))


@dataclass(frozen=True)
class Utterance:
    samples: npt.NDArray[np.int16]
    speech_ms: int  # voiced audio inside it
    truncated: bool  # cut at max_utterance_s


class SpeechEndpointer(Protocol):
    """What the call layer needs of an endpointer (this energy one, or the Silero one in
    :mod:`ivr.asr.vad_endpoint`): 16 kHz samples in, in any chunk sizes; finished utterances out."""

    @property
    def in_speech(self) -> bool: ...

    def feed(self, samples: npt.NDArray[np.int16]) -> list[Utterance]: ...

    def flush(self) -> Utterance | None: ...

    def reset(self) -> None: ...

    def close(self) -> None:
        """The stream is over (the call ended): release what the endpointer holds."""


class Endpointer:
    """Feed audio in any chunk sizes; complete utterances come out of :meth:`feed`."""

    def __init__(self, config: EndpointConfig | None = None) -> None:
        self.config = config or EndpointConfig()
        self._pending = np.zeros(0, dtype=np.int16)
        self._preroll: deque[npt.NDArray[np.int16]] = deque(maxlen=self.config.frames(self.config.preroll_ms))
        self._floor = FLOOR_DBFS
        self._run = 0  # consecutive voiced frames before speech starts
        self._in_speech = False
        self._frames: list[npt.NDArray[np.int16]] = []
        self._levels: list[float] = []
        self._last_voiced = 0
        self._voiced = 0
        self._silent = 0

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    @property
    def noise_floor_dbfs(self) -> float:
        return self._floor

    def reset(self) -> None:
        """Forget any utterance in progress (the noise floor is kept)."""
        self._pending = np.zeros(0, dtype=np.int16)
        self._preroll.clear()
        self._run = 0
        self._in_speech = False
        self._frames = []
        self._voiced = 0
        self._silent = 0

    def feed(self, samples: npt.NDArray[np.int16]) -> list[Utterance]:
        n = self.config.frame_samples
        data = np.concatenate([self._pending, np.asarray(samples, dtype=np.int16).ravel()])
        whole = len(data) - len(data) % n
        self._pending = data[whole:].copy()
        out: list[Utterance] = []
        for start in range(0, whole, n):
            done = self._frame(data[start : start + n])
            if done is not None:
                out.append(done)
        return out

    def flush(self) -> Utterance | None:
        """End of audio: the utterance in progress, if it is long enough."""
        if not self._in_speech:
            self.reset()
            return None
        done = self._finish(truncated=False)
        self.reset()
        return done

    def close(self) -> None:
        """The stream is over: nothing native to release here; forget any utterance in progress."""
        self.reset()

    def _threshold(self) -> float:
        return max(self.config.threshold_dbfs, self._floor + self.config.margin_db)

    def _frame(self, frame: npt.NDArray[np.int16]) -> Utterance | None:
        cfg = self.config
        level = frame_dbfs(frame)
        voiced = level > self._threshold()
        if not self._in_speech:
            self._track_floor(level, voiced)
            self._preroll.append(frame)
            self._run = self._run + 1 if voiced else 0
            if self._run >= cfg.frames(cfg.start_ms):
                self._in_speech = True
                self._frames = list(self._preroll)
                self._last_voiced = len(self._frames)
                self._levels = []
                self._preroll.clear()
                self._voiced = self._run
                self._silent = 0
            return None
        self._frames.append(frame)
        self._levels.append(level)
        if voiced:
            self._voiced += 1
            self._silent = 0
            self._last_voiced = len(self._frames)
        else:
            self._silent += 1
        if len(self._frames) * cfg.frame_ms >= cfg.max_utterance_s * 1000:
            return self._end(truncated=True)
        if self._silent >= cfg.frames(cfg.hangover_ms):
            return self._end(truncated=False)
        return None

    def _track_floor(self, level: float, voiced: bool) -> None:
        if level < self._floor:
            self._floor = level  # quieter background: follow at once
        elif not voiced:
            self._floor += self.config.floor_adapt * (level - self._floor)

    def _end(self, *, truncated: bool) -> Utterance | None:
        done = self._finish(truncated=truncated)
        if truncated and self._levels:
            # Nobody talks for max_utterance_s without a pause: this was mostly background noise.
            self._floor = max(self._floor, float(np.median(self._levels)))
        self._levels = []
        self._in_speech = False
        self._run = 0
        self._frames = []
        self._voiced = 0
        self._silent = 0
        return done

    def _finish(self, *, truncated: bool) -> Utterance | None:
        speech_ms = self._voiced * self.config.frame_ms
        if speech_ms < self.config.min_speech_ms or not self._frames:
            return None
        keep = (
            self._frames
            if truncated
            else self._frames[: self._last_voiced + self.config.frames(self.config.tail_ms)]
        )
        return Utterance(np.concatenate(keep), speech_ms, truncated)
