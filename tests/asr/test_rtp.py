from __future__ import annotations

import struct

import numpy as np
import pytest

from ivr.asr.rtp import RtpError, SequenceFilter, parse_rtp, slin16_samples


def packet(
    *,
    seq: int = 1,
    ts: int = 160,
    ssrc: int = 0xABC,
    pt: int = 118,
    marker: bool = False,
    csrcs: tuple[int, ...] = (),
    extension: bytes | None = None,
    padding: int = 0,
    payload: bytes = b"\x00\x01\xff\xfe",
) -> bytes:
    first = 0x80 | (0x20 if padding else 0) | (0x10 if extension is not None else 0) | len(csrcs)
    out = struct.pack("!BBHII", first, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    out += b"".join(struct.pack("!I", c) for c in csrcs)
    if extension is not None:
        out += struct.pack("!HH", 0xBEDE, len(extension) // 4) + extension
    out += payload
    if padding:
        out += b"\x00" * (padding - 1) + bytes([padding])
    return out


def test_plain_header() -> None:
    p = parse_rtp(packet(seq=7, ts=320, ssrc=5, pt=118, marker=True))
    assert (p.sequence, p.timestamp, p.ssrc, p.payload_type, p.marker) == (7, 320, 5, 118, True)
    assert p.payload == b"\x00\x01\xff\xfe" and p.csrcs == () and p.extension is None


def test_csrc_extension_and_padding_are_skipped() -> None:
    p = parse_rtp(packet(csrcs=(1, 2), extension=b"\x10\x20\x30\x40", padding=4, payload=b"\x12\x34"))
    assert p.csrcs == (1, 2)
    assert p.extension == b"\x10\x20\x30\x40"
    assert p.payload == b"\x12\x34"


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x00",  # too short
        b"\x40" + bytes(11),  # version 1
        packet(csrcs=(1,))[:14],  # CSRC list cut
        packet(extension=b"\x00" * 8)[:18],  # extension cut
        packet(padding=4)[:-1] + b"\x40",  # padding longer than the packet
    ],
)
def test_malformed_packets_raise(data: bytes) -> None:
    with pytest.raises(RtpError):
        parse_rtp(data)


def test_slin16_is_big_endian() -> None:
    samples = slin16_samples(b"\x00\x01\xff\xfe\x7f\xff\x80\x00\x01")  # trailing odd byte ignored
    assert samples.dtype == np.int16
    assert samples.tolist() == [1, -2, 32767, -32768]


def test_sequence_filter_drops_duplicates_and_late_packets() -> None:
    f = SequenceFilter()
    accepted = [f.accept(parse_rtp(packet(seq=s))) for s in (10, 11, 11, 13, 12, 14)]
    assert accepted == [True, True, False, True, False, True]


def test_sequence_filter_wraps_and_follows_a_new_stream() -> None:
    f = SequenceFilter()
    assert [f.accept(parse_rtp(packet(seq=s))) for s in (65534, 65535, 0, 1)] == [True] * 4
    assert f.accept(parse_rtp(packet(seq=40000)))  # huge jump: the sender restarted
    assert f.accept(parse_rtp(packet(seq=3, ssrc=0xDEF)))  # new SSRC starts over
    assert not f.accept(parse_rtp(packet(seq=3, ssrc=0xDEF)))
