"""Endpointing on human speech: Silero VAD vs the energy endpointer, on the same clips.

``python -m bench.endpointing`` takes Asterisk's human-recorded digits (en_US_f_Allison, GSM, converted
to 16 kHz with sox), pads each with 1 s before and 1.5 s after, and counts the clips each endpointer
finds as exactly one utterance: clean, and with white noise at 20 dB and 10 dB SNR. It also counts how
many noise-only streams (same length and noise level, no speech) produce any utterance. The same for
random 4–8 digit strings said with 250 ms between the words (one utterance each is right). Counts, not
timings: the CPU each endpointer spent is printed for information only. ``--clips N`` takes the first N
clips (sorted by name); the default, all, takes ≈30 s on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ivr.asr.endpoint import Endpointer, SpeechEndpointer, frame_dbfs
from ivr.asr.vad_endpoint import SileroEndpointer

RATE = 16000
LEAD_S = 1.0
TRAIL_S = 1.5
SEED = 20251201
SNRS_DB = (None, 20.0, 10.0)  # None: clean
DEFAULT_CLIPS = 0  # all of them (94 here): ≈10 s CPU for both endpointers
PACKET = 320  # 20 ms, as RTP delivers it
STRINGS = 20
GAP_S = 0.25  # silence between the words of a digit string


def digits_dir() -> Path:
    root = Path(os.environ.get("IVR_PBX_ROOT", "/var/cache/ivr/asterisk-root"))
    return root / "usr/share/asterisk/sounds/en_US_f_Allison/digits"


def load_16k(path: Path) -> npt.NDArray[np.int16]:
    """Any sox-readable file as 16 kHz mono signed 16-bit samples."""
    raw = subprocess.run(
        ["sox", str(path), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", "-"],
        check=True,
        capture_output=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.int16).copy()


def silence(seconds: float) -> npt.NDArray[np.int16]:
    return np.zeros(round(seconds * RATE), dtype=np.int16)


def trimmed(clip: npt.NDArray[np.int16], floor_dbfs: float = -45.0) -> npt.NDArray[np.int16]:
    """The recording without its own leading and trailing quiet (20 ms frames at or below ``floor_dbfs``):
    the recordings carry 60–300 ms of it, which would lengthen every gap between spoken digits."""
    levels = [frame_dbfs(clip[i : i + PACKET]) for i in range(0, len(clip) - PACKET + 1, PACKET)]
    loud = [i for i, level in enumerate(levels) if level > floor_dbfs]
    return clip[loud[0] * PACKET : (loud[-1] + 1) * PACKET] if loud else clip[:0]


def padded(
    speech: npt.NDArray[np.int16], lead_s: float = LEAD_S, trail_s: float = TRAIL_S
) -> npt.NDArray[np.int16]:
    return np.concatenate([silence(lead_s), speech, silence(trail_s)])


def noise_sigma(speech: npt.NDArray[np.int16], snr_db: float) -> float:
    """White-noise standard deviation that puts ``speech`` (its RMS over the clip) at ``snr_db``."""
    rms = float(np.sqrt(np.mean(np.square(speech.astype(np.float64)))))
    return rms / 10 ** (snr_db / 20)


def add_noise(audio: npt.NDArray[np.int16], sigma: float, rng: np.random.Generator) -> npt.NDArray[np.int16]:
    noisy = audio.astype(np.float64) + rng.normal(0.0, sigma, len(audio))
    return np.clip(noisy, -32768, 32767).astype(np.int16)


def utterances(endpointer: SpeechEndpointer, audio: npt.NDArray[np.int16]) -> list[int]:
    """Feed in 20 ms packets, then flush; the utterance lengths in ms."""
    out = []
    for start in range(0, len(audio), PACKET):
        out += [len(u.samples) * 1000 // RATE for u in endpointer.feed(audio[start : start + PACKET])]
    last = endpointer.flush()
    if last is not None:
        out.append(len(last.samples) * 1000 // RATE)
    return out


@dataclass
class Counts:
    one_segment: dict[str, int]  # condition -> clips found as exactly one utterance
    noise_triggered: dict[str, int]  # condition -> noise-only streams with any utterance


def digit_strings(
    digits: dict[str, npt.NDArray[np.int16]], count: int, seed: int = SEED, gap_s: float = GAP_S
) -> list[npt.NDArray[np.int16]]:
    """``count`` random 4–8 digit strings, the words (trimmed) ``gap_s`` apart."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        number = "".join(rng.choice(list(digits), size=int(rng.integers(4, 9))))
        parts: list[npt.NDArray[np.int16]] = []
        for d in number:
            parts += [trimmed(digits[d]), silence(gap_s)]
        out.append(np.concatenate(parts[:-1]))
    return out


def measure(
    clips: Sequence[npt.NDArray[np.int16]], make: Callable[[], SpeechEndpointer], seed: int = SEED
) -> Counts:
    """One fresh endpointer per stream, as one per call; the same noise for every endpointer. Noise-only
    streams are as long as the padded clip, with the noise level that clip was given."""
    rng = np.random.default_rng(seed)
    counts = Counts({}, {})
    for snr in SNRS_DB:
        name = "clean" if snr is None else f"{snr:g} dB"
        one = triggered = 0
        for clip in clips:
            stream = padded(clip)
            if snr is not None:
                sigma = noise_sigma(clip, snr)
                stream = add_noise(stream, sigma, rng)
                triggered += bool(utterances(make(), add_noise(silence(len(stream) / RATE), sigma, rng)))
            one += len(utterances(make(), stream)) == 1
        counts.one_segment[name] = one
        if snr is not None:
            counts.noise_triggered[name] = triggered
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.endpointing", description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=DEFAULT_CLIPS, help="first N clips (0: all)")
    args = parser.parse_args(argv)
    paths = sorted(digits_dir().glob("*.gsm"))
    if not paths:
        parser.error(f"no Asterisk digit recordings under {digits_dir()} (run `make deps`)")
    if args.clips > 0:
        paths = paths[: args.clips]
    clips = [load_16k(p) for p in paths]
    digits = {d: load_16k(digits_dir() / f"{d}.gsm") for d in "0123456789"}
    sets = (
        (f"{len(clips)} recordings", clips),
        (f"{STRINGS} strings of 4–8 digits, {GAP_S:g} s apart", digit_strings(digits, STRINGS)),
    )
    print(f"Asterisk's digits from {digits_dir()}; {LEAD_S:g} s lead, {TRAIL_S:g} s trail; seed {SEED}")
    for title, streams in sets:
        print(f"{title}:")
        for name, make in (("silero", SileroEndpointer), ("energy", Endpointer)):
            cpu = time.process_time()
            counts = measure(streams, make)
            spent = time.process_time() - cpu
            n = len(streams)
            one = ", ".join(f"{k} {v}/{n}" for k, v in counts.one_segment.items())
            noise = ", ".join(f"{k} {v}/{n}" for k, v in counts.noise_triggered.items())
            print(f"  {name:>6}: one utterance: {one}; noise alone triggered: {noise}; CPU {spent:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
