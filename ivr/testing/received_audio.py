"""What a test caller received, as audio: RTP parsing, PCMU to 16 kHz, speech spans, digits in a transcript.

Pure functions for :mod:`ivr.testing.hearing` (the socket and the recogniser live there):

- :func:`parse_rtp` reads one datagram (RFC 3550: CSRCs, header extension and padding skipped);
- :func:`assemble_pcmu` lays the PCMU payloads (payload type 0) end to end in arrival order and
  turns a pause in arrival (Asterisk sends nothing between prompts) into that much silence;
- :func:`upsample_2x` takes 8 kHz to the 16 kHz Whisper wants with a windowed-sinc low-pass;
- :func:`speech_spans` cuts a recording at its pauses, so each prompt is transcribed on its own
  (Whisper invents words over long silence);
- :func:`heard_digits` lists the digits a free transcript says, in order.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ivr.asr.numbers import EN_WORDS, JA_KANJI, spoken_digits
from ivr.testing.rtp_pcap import PACKET_MS, PCMU_PAYLOAD_TYPE, SAMPLES_PER_PACKET, mulaw_decode

RATE_8K = 8000
RATE_16K = 16000
_FIR_HALF_TAPS = 32


@dataclass(frozen=True)
class RtpDatagram:
    """One received RTP packet; ``arrival_s`` is seconds on any monotonic clock."""

    arrival_s: float
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


def parse_rtp(data: bytes, arrival_s: float) -> RtpDatagram | None:
    """The RTP packet in ``data``, or None when it is not RTP version 2 (or is cut short)."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    first, second, sequence, timestamp, ssrc = struct.unpack("!BBHII", data[:12])
    offset = 12 + 4 * (first & 0x0F)
    if first & 0x10:  # header extension: 4-byte header, then its length in 32-bit words
        if len(data) < offset + 4:
            return None
        (words,) = struct.unpack("!H", data[offset + 2 : offset + 4])
        offset += 4 + 4 * words
    end = len(data)
    if first & 0x20:  # padding: the last byte counts the padding bytes
        end -= data[-1]
    if offset > end:
        return None
    return RtpDatagram(arrival_s, second & 0x7F, sequence, timestamp, ssrc, data[offset:end])


def assemble_pcmu(packets: Sequence[RtpDatagram], *, late_s: float = 0.06) -> npt.NDArray[np.int16]:
    """8 kHz samples of the PCMU packets in arrival order, duplicates dropped.

    When a packet arrives more than ``late_s`` after the audio laid so far would end, the difference
    becomes silence: the pauses between prompts survive, the jitter of a loaded machine does not."""
    seen: set[tuple[int, int]] = set()
    chunks: list[npt.NDArray[np.int16]] = []
    start: float | None = None
    laid = 0  # samples laid so far
    for packet in sorted(packets, key=lambda p: p.arrival_s):
        if packet.payload_type != PCMU_PAYLOAD_TYPE or not packet.payload:
            continue
        key = (packet.ssrc, packet.sequence)
        if key in seen:
            continue
        seen.add(key)
        if start is None:
            start = packet.arrival_s - len(packet.payload) / RATE_8K
        behind = packet.arrival_s - start - (laid + len(packet.payload)) / RATE_8K
        if behind > late_s:
            gap = round(behind * RATE_8K / SAMPLES_PER_PACKET) * SAMPLES_PER_PACKET
            chunks.append(np.zeros(gap, dtype=np.int16))
            laid += gap
        samples = mulaw_decode(packet.payload)
        chunks.append(samples)
        laid += len(samples)
    if not chunks:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate(chunks)


def _half_band_fir() -> npt.NDArray[np.float64]:
    n = np.arange(-_FIR_HALF_TAPS, _FIR_HALF_TAPS + 1)
    taps = np.sinc(n / 2) * np.blackman(len(n))  # cut-off at a quarter of 16 kHz: 4 kHz
    return np.asarray(taps / taps.sum() * 2, dtype=np.float64)  # ×2: the zeros inserted halve the level


def upsample_2x(samples8k: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """8 kHz → 16 kHz: zeros between samples, then a windowed-sinc low-pass at 4 kHz."""
    if samples8k.size == 0:
        return np.zeros(0, dtype=np.int16)
    stuffed = np.zeros(samples8k.size * 2, dtype=np.float64)
    stuffed[::2] = samples8k
    out = np.convolve(stuffed, _half_band_fir(), mode="same")
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


def speech_spans(
    samples: npt.NDArray[np.int16],
    rate: int = RATE_16K,
    *,
    threshold_dbfs: float = -45.0,
    min_gap_s: float = 0.7,
    min_speech_s: float = 0.15,
    pad_s: float = 0.2,
) -> list[tuple[int, int]]:
    """(start, end) sample ranges holding sound, split where it pauses ``min_gap_s`` or longer.

    A 20 ms frame is sound above ``threshold_dbfs``; runs shorter than ``min_speech_s`` are clicks.
    Each range is widened by ``pad_s`` (within the recording)."""
    frame = rate * PACKET_MS // 1000
    count = samples.size // frame
    if count == 0:
        return []
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    loud = 20 * np.log10(np.maximum(rms, 1e-9) / 32768.0) > threshold_dbfs
    runs: list[list[int]] = []
    max_gap = round(min_gap_s * 1000 / PACKET_MS)
    for index in np.flatnonzero(loud):
        i = int(index)
        if runs and i - runs[-1][1] < max_gap:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    pad = int(pad_s * rate)
    min_frames = min_speech_s * 1000 / PACKET_MS
    return [
        (max(0, a * frame - pad), min(samples.size, b * frame + pad)) for a, b in runs if b - a >= min_frames
    ]


_EN_TOKEN = re.compile(r"[a-z]+|\d")
_EN_DIGIT_WORDS = {word: digit for word, digit in EN_WORDS.items() if word not in ("o", "oh")}
_JA_CHUNK = re.compile(r"[\s,.、。・:;!?？！]+")


def heard_digits(transcript: str, lang: str) -> str:
    """Every digit the transcript says, in order: digit characters, and the digit words of the language.

    English: ``zero``…``nine`` ("oh" is left out: it is also an interjection). Japanese: digit
    characters, the kanji 〇一二…, and a chunk between punctuation that is nothing but kana digit words
    (``なな``, ``よん に``); kana inside other words is not read, since に is also a particle."""
    text = unicodedata.normalize("NFKC", transcript).casefold()
    if lang.split("-", 1)[0] == "ja":
        out: list[str] = []
        for chunk in _JA_CHUNK.split(text):
            whole = spoken_digits(chunk, "ja") if chunk else None
            if whole is not None:
                out.append(whole)
            else:
                out.extend(
                    ch if ch.isdigit() else JA_KANJI[ch] for ch in chunk if ch.isdigit() or ch in JA_KANJI
                )
        return "".join(out)
    return "".join(
        token if token.isdigit() else _EN_DIGIT_WORDS[token]
        for token in _EN_TOKEN.findall(text)
        if token.isdigit() or token in _EN_DIGIT_WORDS
    )
