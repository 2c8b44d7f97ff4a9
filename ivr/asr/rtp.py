"""RTP as pure functions: parse a datagram (RFC 3550), decode slin16, drop duplicate or late packets.

Asterisk's ``externalMedia`` with ``format=slin16`` sends 16 kHz signed 16-bit **big-endian** mono
samples, 20 ms (320 samples, 640 bytes) per packet, normally with a plain 12-byte header. CSRC lists,
header extensions and padding are handled anyway so a different sender cannot confuse us.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

RTP_VERSION = 2
FIXED_HEADER_LEN = 12
SEQ_MOD = 1 << 16
MAX_DROPOUT = 3000  # a forward jump up to this is loss; a bigger backward jump is a new stream
MAX_MISORDER = 100  # a packet at most this far behind the newest one is late: dropped


class RtpError(ValueError):
    """The datagram is not a well-formed RTP packet."""


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    marker: bool
    sequence: int
    timestamp: int
    ssrc: int
    csrcs: tuple[int, ...]
    extension: bytes | None  # the extension header's data (profile word excluded), when present
    payload: bytes


def parse_rtp(data: bytes) -> RtpPacket:
    """Parse one RTP datagram; raises :class:`RtpError` when it is malformed."""
    if len(data) < FIXED_HEADER_LEN:
        raise RtpError(f"{len(data)} bytes is shorter than an RTP header")
    first, second, sequence, timestamp, ssrc = struct.unpack_from("!BBHII", data)
    version = first >> 6
    if version != RTP_VERSION:
        raise RtpError(f"RTP version {version}, expected 2")
    padding = bool(first & 0x20)
    has_extension = bool(first & 0x10)
    csrc_count = first & 0x0F
    offset = FIXED_HEADER_LEN + 4 * csrc_count
    if len(data) < offset:
        raise RtpError("packet shorter than its CSRC list")
    csrcs = struct.unpack_from(f"!{csrc_count}I", data, FIXED_HEADER_LEN) if csrc_count else ()
    extension: bytes | None = None
    if has_extension:
        if len(data) < offset + 4:
            raise RtpError("packet shorter than its extension header")
        _profile, words = struct.unpack_from("!HH", data, offset)
        start = offset + 4
        offset = start + 4 * words
        if len(data) < offset:
            raise RtpError("packet shorter than its header extension")
        extension = bytes(data[start:offset])
    end = len(data)
    if padding:
        pad = data[-1]
        if pad == 0 or end - pad < offset:
            raise RtpError(f"bad padding length {pad}")
        end -= pad
    return RtpPacket(
        payload_type=second & 0x7F,
        marker=bool(second & 0x80),
        sequence=sequence,
        timestamp=timestamp,
        ssrc=ssrc,
        csrcs=tuple(csrcs),
        extension=extension,
        payload=bytes(data[offset:end]),
    )


def slin16_samples(payload: bytes) -> npt.NDArray[np.int16]:
    """Big-endian signed 16-bit PCM → native int16 samples (a trailing odd byte is ignored)."""
    usable = len(payload) - (len(payload) % 2)
    return np.frombuffer(payload[:usable], dtype=">i2").astype(np.int16)


class SequenceFilter:
    """Accepts each packet once, in order: duplicates and late (reordered) packets are dropped.

    No jitter buffer: on loopback packets arrive in order; a lost packet is simply a gap. A new SSRC or
    a big jump backwards (the sender restarted its stream) starts over.
    """

    def __init__(self) -> None:
        self._ssrc: int | None = None
        self._last: int | None = None

    def accept(self, packet: RtpPacket) -> bool:
        if self._ssrc != packet.ssrc or self._last is None:
            self._ssrc, self._last = packet.ssrc, packet.sequence
            return True
        delta = (packet.sequence - self._last) % SEQ_MOD
        if delta == 0:
            return False  # duplicate
        if delta < MAX_DROPOUT:
            self._last = packet.sequence  # in order, possibly after a loss
            return True
        if delta >= SEQ_MOD - MAX_MISORDER:
            return False  # late: older than what we already used
        self._last = packet.sequence  # a big jump either way: the stream restarted
        return True

    def reset(self) -> None:
        self._ssrc = None
        self._last = None
