from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ivr.asr.endpoint import EndpointConfig, Endpointer, frame_dbfs

RATE = 16000


def tone(seconds: float, amplitude: float = 8000.0, hz: float = 300.0) -> npt.NDArray[np.int16]:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def silence(seconds: float) -> npt.NDArray[np.int16]:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def feed_in_packets(ep: Endpointer, audio: npt.NDArray[np.int16], size: int = 320) -> list[int]:
    """Feed like RTP does (20 ms at a time); the utterance lengths in ms."""
    out = []
    for start in range(0, len(audio), size):
        out += [len(u.samples) * 1000 // RATE for u in ep.feed(audio[start : start + size])]
    return out


def test_levels() -> None:
    assert frame_dbfs(silence(0.02)) == -96.0
    assert -4.0 < frame_dbfs(tone(0.02, 32767)) < -2.0  # a full-scale sine is −3 dBFS


def test_one_utterance_with_preroll_and_hangover() -> None:
    cfg = EndpointConfig()
    ep = Endpointer(cfg)
    lengths = feed_in_packets(ep, np.concatenate([silence(1.0), tone(0.6), silence(1.0)]))
    assert len(lengths) == 1
    # preroll (300 ms, including the 60 ms start run) + the rest of the tone + hangover (500 ms)
    assert 600 + cfg.hangover_ms <= lengths[0] <= 600 + cfg.hangover_ms + cfg.preroll_ms


def test_two_words_with_a_short_pause_are_one_utterance() -> None:
    ep = Endpointer()
    audio = np.concatenate([silence(0.5), tone(0.4), silence(0.2), tone(0.4), silence(1.0)])
    assert len(feed_in_packets(ep, audio)) == 1


def test_a_click_is_not_speech() -> None:
    ep = Endpointer()
    assert feed_in_packets(ep, np.concatenate([silence(0.5), tone(0.04), silence(1.0)])) == []


def test_short_burst_below_min_speech_is_dropped() -> None:
    ep = Endpointer(EndpointConfig(min_speech_ms=300))
    assert feed_in_packets(ep, np.concatenate([silence(0.5), tone(0.1), silence(1.0)])) == []


def test_long_speech_is_cut_at_max_length() -> None:
    ep = Endpointer(EndpointConfig(max_utterance_s=2.0))
    audio = np.concatenate([silence(0.3), tone(5.0)])
    utterances = [u for start in range(0, len(audio), 320) for u in ep.feed(audio[start : start + 320])]
    assert [(len(u.samples) * 1000 // RATE, u.truncated) for u in utterances] == [(2000, True)]
    # The cut lifts the noise floor to the tone's level: the rest of the steady tone is not speech,
    # so nothing is in progress and flushing gives nothing more.
    assert not ep.in_speech
    assert ep.flush() is None


def test_steady_noise_stops_counting_as_speech() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 1500, int(12 * RATE)).astype(np.int16)
    ep = Endpointer(EndpointConfig(max_utterance_s=3.0))
    lengths = feed_in_packets(ep, noise)
    assert len(lengths) <= 1  # one cut at max length, then the floor rose above the noise
    assert ep.noise_floor_dbfs > -40
    speech = (noise[:RATE] + tone(1.0, 16000)).astype(np.int16)
    assert len(feed_in_packets(ep, np.concatenate([speech, noise[:RATE]]))) == 1


def test_flush_returns_speech_in_progress() -> None:
    ep = Endpointer()
    assert feed_in_packets(ep, np.concatenate([silence(0.3), tone(0.5)])) == []
    done = ep.flush()
    assert done is not None and done.speech_ms >= 400
