"""Build pcap files holding ONE continuous PCMU RTP stream for SIPp's ``play_pcap_audio``.

A stream is described by a script of segments — :class:`Silence`, :class:`Audio` and
:class:`Dtmf` — and rendered on a 20 ms clock: every tick carries exactly one RTP packet,
either 160 μ-law samples (payload type 0) or an RFC 4733 telephone-event packet (payload
type 101, what SIPp's sample pcaps and Asterisk's default ``telephone-event/8000`` use).
Sequence numbers increase by one per packet and the RTP timestamp advances by 160 per tick,
also while an event is being sent, so digits never collide (the shipped one-pcap-per-digit
files restart the timestamp and Asterisk drops every other digit).

Events follow RFC 4733: the marker bit on the first packet of an event, the same RTP timestamp
(the event's start) on all of its packets, a growing duration field, and the final packet sent
three times with the E bit, one per tick.

The link format copies ``/usr/share/sip-tester/*.pcap``: classic little-endian pcap,
microsecond timestamps, link type 1 (Ethernet) / IPv4 / UDP.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 8000
PACKET_MS = 20
SAMPLES_PER_PACKET = SAMPLE_RATE * PACKET_MS // 1000  # 160
PCMU_PAYLOAD_TYPE = 0
EVENT_PAYLOAD_TYPE = 101
END_PACKET_COUNT = 3
MULAW_SILENCE = 0xFF

DTMF_EVENT_CODES: dict[str, int] = {
    **{str(d): d for d in range(10)},
    "*": 10,
    "#": 11,
    "A": 12,
    "B": 13,
    "C": 14,
    "D": 15,
}

PCAP_MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1
_PCAP_EPOCH_S = 1_700_000_000


class PcapBuildError(ValueError):
    """A segment cannot be rendered (bad DTMF key, unreadable sound file, …)."""


@dataclass(frozen=True)
class Silence:
    """``seconds`` of μ-law silence (rounded up to whole 20 ms packets)."""

    seconds: float


@dataclass(frozen=True)
class Audio:
    """Speech or tones: 8 kHz mono int16 samples, or a sound file path converted with sox."""

    source: npt.NDArray[np.int16] | Sequence[int] | str | Path


@dataclass(frozen=True)
class Dtmf:
    """RFC 4733 digits: each key lasts ``duration_ms``, then ``gap_ms`` before the next key.

    The two retransmissions of an event's end packet are sent during the gap.
    ``volume`` is the RFC 4733 power level (0–63, meaning −dBm0).
    """

    keys: str
    duration_ms: int = 160
    gap_ms: int = 240
    volume: int = 10


Segment = Silence | Audio | Dtmf


@dataclass(frozen=True)
class RtpPacket:
    """One RTP packet of the stream; ``time_s`` is its send time from the stream's start."""

    time_s: float
    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes

    def to_bytes(self) -> bytes:
        first = 0x80  # version 2, no padding, no extension, no CSRC
        second = (0x80 if self.marker else 0) | (self.payload_type & 0x7F)
        header = struct.pack("!BBHII", first, second, self.sequence, self.timestamp, self.ssrc)
        return header + self.payload


# --- G.711 μ-law ---------------------------------------------------------------------------

_MULAW_BIAS = 0x84
_MULAW_CLIP = 32635


def mulaw_encode(samples: npt.ArrayLike) -> bytes:
    """Encode signed 16-bit linear PCM to G.711 μ-law bytes (the ITU-T / Sun reference)."""
    pcm = np.asarray(samples, dtype=np.int32).ravel()
    sign = np.where(pcm < 0, 0x80, 0x00).astype(np.int32)
    magnitude = np.minimum(np.abs(pcm), _MULAW_CLIP) + _MULAW_BIAS
    # exponent = position of the highest set bit among bits 7..14 of the biased magnitude
    exponent = np.zeros_like(magnitude)
    for exp in range(7, 0, -1):
        exponent = np.where((exponent == 0) & (magnitude >= (1 << (exp + 7))), exp, exponent)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    encoded = ~(sign | (exponent << 4) | mantissa) & 0xFF
    return bytes(encoded.astype(np.uint8).tobytes())


def mulaw_decode(data: bytes) -> npt.NDArray[np.int16]:
    """Decode G.711 μ-law bytes to signed 16-bit linear PCM."""
    code = ~np.frombuffer(data, dtype=np.uint8).astype(np.int32) & 0xFF
    sign = code & 0x80
    exponent = (code >> 4) & 0x07
    mantissa = code & 0x0F
    magnitude = (((mantissa << 3) + _MULAW_BIAS) << exponent) - _MULAW_BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


# --- audio sources -------------------------------------------------------------------------


def load_sound_file(path: str | Path) -> npt.NDArray[np.int16]:
    """Read any sox-readable sound file as 8 kHz mono int16 samples."""
    src = Path(path)
    if not src.is_file():
        raise PcapBuildError(f"sound file not found: {src}")
    sox = shutil.which("sox")
    if sox is None:
        raise PcapBuildError("sox is not installed; it is needed to convert sound files")
    proc = subprocess.run(
        [
            sox,
            str(src),
            "-t",
            "raw",
            "-r",
            str(SAMPLE_RATE),
            "-c",
            "1",
            "-e",
            "signed-integer",
            "-b",
            "16",
            "-L",
            "-",
        ],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise PcapBuildError(f"sox could not convert {src}: {err}")
    return np.frombuffer(proc.stdout, dtype="<i2").astype(np.int16)


def _audio_samples(audio: Audio) -> npt.NDArray[np.int16]:
    if isinstance(audio.source, str | Path):
        return load_sound_file(audio.source)
    return np.asarray(audio.source, dtype=np.int16).ravel()


# --- stream rendering ----------------------------------------------------------------------


def _ticks(ms: float) -> int:
    return max(0, round(ms / PACKET_MS))


class _StreamBuilder:
    def __init__(self, ssrc: int, first_sequence: int, first_timestamp: int) -> None:
        self.ssrc = ssrc & 0xFFFFFFFF
        self.sequence = first_sequence & 0xFFFF
        self.first_timestamp = first_timestamp
        self.tick = 0
        self.packets: list[RtpPacket] = []

    def _timestamp(self, tick: int) -> int:
        return (self.first_timestamp + tick * SAMPLES_PER_PACKET) & 0xFFFFFFFF

    def emit(
        self, payload_type: int, payload: bytes, *, marker: bool = False, timestamp: int | None = None
    ) -> None:
        self.packets.append(
            RtpPacket(
                time_s=self.tick * PACKET_MS / 1000,
                payload_type=payload_type,
                marker=marker or not self.packets,  # first packet of the stream is marked
                sequence=self.sequence,
                timestamp=self._timestamp(self.tick) if timestamp is None else timestamp,
                ssrc=self.ssrc,
                payload=payload,
            )
        )
        self.sequence = (self.sequence + 1) & 0xFFFF
        self.tick += 1

    def audio(self, samples: npt.NDArray[np.int16]) -> None:
        encoded = mulaw_encode(samples)
        remainder = len(encoded) % SAMPLES_PER_PACKET
        if remainder:
            encoded += bytes([MULAW_SILENCE]) * (SAMPLES_PER_PACKET - remainder)
        for start in range(0, len(encoded), SAMPLES_PER_PACKET):
            self.emit(PCMU_PAYLOAD_TYPE, encoded[start : start + SAMPLES_PER_PACKET])

    def silence_ticks(self, count: int) -> None:
        frame = bytes([MULAW_SILENCE]) * SAMPLES_PER_PACKET
        for _ in range(count):
            self.emit(PCMU_PAYLOAD_TYPE, frame)

    def dtmf(self, dtmf: Dtmf) -> None:
        if not 0 <= dtmf.volume <= 63:
            raise PcapBuildError(f"DTMF volume must be 0..63, got {dtmf.volume}")
        if dtmf.duration_ms <= 0 or dtmf.gap_ms < 0:
            raise PcapBuildError("DTMF duration_ms must be > 0 and gap_ms >= 0")
        for key in dtmf.keys:
            code = DTMF_EVENT_CODES.get(key.upper())
            if code is None:
                raise PcapBuildError(f"not a DTMF key: {key!r} (use 0-9, *, #, A-D)")
            self._event(code, dtmf)

    def _event(self, code: int, dtmf: Dtmf) -> None:
        packets = max(1, _ticks(dtmf.duration_ms))
        start_ts = self._timestamp(self.tick)
        for index in range(packets):
            end = index == packets - 1
            duration = min((index + 1) * SAMPLES_PER_PACKET, 0xFFFF)
            self.emit(
                EVENT_PAYLOAD_TYPE,
                _event_payload(code, end, dtmf.volume, duration),
                marker=index == 0,
                timestamp=start_ts,
            )
        final = _event_payload(code, True, dtmf.volume, min(packets * SAMPLES_PER_PACKET, 0xFFFF))
        for _ in range(END_PACKET_COUNT - 1):
            self.emit(EVENT_PAYLOAD_TYPE, final, timestamp=start_ts)
        self.silence_ticks(max(0, _ticks(dtmf.gap_ms) - (END_PACKET_COUNT - 1)))


def _event_payload(code: int, end: bool, volume: int, duration: int) -> bytes:
    return struct.pack("!BBH", code, (0x80 if end else 0) | (volume & 0x3F), duration)


def rtp_packets(
    segments: Iterable[Segment],
    *,
    ssrc: int = 0x1E7C0DE5,
    first_sequence: int = 1000,
    first_timestamp: int = 0,
) -> list[RtpPacket]:
    """Render segments to one continuous RTP stream (one packet per 20 ms tick)."""
    builder = _StreamBuilder(ssrc, first_sequence, first_timestamp)
    for segment in segments:
        if isinstance(segment, Silence):
            if segment.seconds < 0:
                raise PcapBuildError(f"Silence seconds must be >= 0, got {segment.seconds}")
            builder.silence_ticks(int(np.ceil(segment.seconds * 1000 / PACKET_MS - 1e-9)))
        elif isinstance(segment, Audio):
            builder.audio(_audio_samples(segment))
        elif isinstance(segment, Dtmf):
            builder.dtmf(segment)
        else:
            raise PcapBuildError(f"unknown segment: {segment!r}")
    return builder.packets


# --- pcap framing --------------------------------------------------------------------------


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return int(~total & 0xFFFF)


def _ipv4(address: str) -> bytes:
    parts = [int(p) for p in address.split(".")]
    if len(parts) != 4 or not all(0 <= p <= 255 for p in parts):
        raise PcapBuildError(f"not an IPv4 address: {address!r}")
    return bytes(parts)


def _frame(udp_payload: bytes, ident: int, src: tuple[str, int], dst: tuple[str, int]) -> bytes:
    udp_len = 8 + len(udp_payload)
    udp = struct.pack("!HHHH", src[1], dst[1], udp_len, 0) + udp_payload  # checksum 0: none (IPv4)
    ip_header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, ident & 0xFFFF, 0, 64, 17, 0, _ipv4(src[0]), _ipv4(dst[0])
    )
    ip_header = ip_header[:10] + struct.pack("!H", _ip_checksum(ip_header)) + ip_header[12:]
    ethernet = bytes.fromhex("020000000002020000000001") + struct.pack("!H", 0x0800)
    return ethernet + ip_header + udp


def pcap_bytes(
    packets: Sequence[RtpPacket],
    *,
    src: tuple[str, int] = ("127.0.0.1", 16000),
    dst: tuple[str, int] = ("127.0.0.1", 6000),
) -> bytes:
    """Frame RTP packets as Ethernet/IPv4/UDP in a classic pcap (SIPp rewrites the ports)."""
    out = [struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, 65535, LINKTYPE_ETHERNET)]
    for ident, packet in enumerate(packets):
        frame = _frame(packet.to_bytes(), ident, src, dst)
        micros = round(packet.time_s * 1_000_000)
        seconds, usec = divmod(micros, 1_000_000)
        out.append(struct.pack("<IIII", _PCAP_EPOCH_S + seconds, usec, len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)


def write_pcap(path: str | Path, segments: Iterable[Segment], **stream: int) -> Path:
    """Write ``segments`` as one continuous PCMU/telephone-event RTP stream to ``path``.

    ``stream`` may set ``ssrc``, ``first_sequence`` and ``first_timestamp``.
    """
    target = Path(path)
    target.write_bytes(pcap_bytes(rtp_packets(segments, **stream)))
    return target


def stream_duration_s(segments: Iterable[Segment]) -> float:
    """How long SIPp takes to play the stream rendered from ``segments``."""
    return len(rtp_packets(segments)) * PACKET_MS / 1000


def caller_pcap(
    path: str | Path,
    digits: str,
    *,
    lead_silence_s: float = 1.0,
    trailing_silence_s: float = 1.0,
    duration_ms: int = 160,
    gap_ms: int = 240,
) -> Path:
    """A caller's stream: silence, the DTMF ``digits``, silence."""
    segments: list[Segment] = [Silence(lead_silence_s)]
    if digits:
        segments.append(Dtmf(digits, duration_ms=duration_ms, gap_ms=gap_ms))
    segments.append(Silence(trailing_silence_s))
    return write_pcap(path, segments)
