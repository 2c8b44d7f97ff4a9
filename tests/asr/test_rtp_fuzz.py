"""Hostile RTP datagrams: ``parse_rtp`` returns a packet or raises ``RtpError``, nothing else, and a
well-formed packet's payload is exactly what is left after its header, CSRCs, extension and padding."""

from __future__ import annotations

import struct

from hypothesis import example, given
from hypothesis import strategies as st

from ivr.asr.rtp import FIXED_HEADER_LEN, RtpError, RtpPacket, SequenceFilter, parse_rtp, slin16_samples


@given(st.binary(max_size=200))
@example(b"\x80" + b"\x00" * 11)  # an empty payload
@example(b"\xa0" + b"\x00" * 10 + b"\x00")  # padding bit with a zero pad length
@example(b"\x9f" + b"\x00" * 11)  # 15 CSRCs announced, none present
@example(b"\x90" + b"\x00" * 11 + b"\x00\x00\xff\xff")  # an extension claiming 65535 words
def test_any_bytes_parse_or_raise_rtp_error(data: bytes) -> None:
    try:
        packet = parse_rtp(data)
    except RtpError:
        return
    assert isinstance(packet, RtpPacket)
    assert len(packet.payload) <= len(data) - FIXED_HEADER_LEN - 4 * len(packet.csrcs)
    assert data[0] >> 6 == 2


@st.composite
def packets(draw: st.DrawFn) -> tuple[bytes, dict[str, object]]:
    csrcs = draw(st.lists(st.integers(0, 2**32 - 1), max_size=15))
    ext = draw(st.none() | st.binary(max_size=40).map(lambda b: b + b"\x00" * (-len(b) % 4)))
    payload = draw(st.binary(max_size=700))
    pad = draw(st.integers(0, 255))
    marker, pt = draw(st.booleans()), draw(st.integers(0, 127))
    seq, ts, ssrc = (
        draw(st.integers(0, 2**16 - 1)),
        draw(st.integers(0, 2**32 - 1)),
        draw(st.integers(0, 2**32 - 1)),
    )
    first = 0x80 | (0x20 if pad else 0) | (0x10 if ext is not None else 0) | len(csrcs)
    data = struct.pack("!BBHII", first, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    data += b"".join(struct.pack("!I", c) for c in csrcs)
    if ext is not None:
        data += struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext
    data += payload + (b"\x00" * (pad - 1) + bytes([pad]) if pad else b"")
    fields = {"payload_type": pt, "marker": marker, "sequence": seq, "timestamp": ts, "ssrc": ssrc}
    return data, {**fields, "csrcs": tuple(csrcs), "extension": ext, "payload": payload}


@given(packets())
def test_a_built_packet_parses_back_to_its_fields(built: tuple[bytes, dict[str, object]]) -> None:
    data, fields = built
    packet = parse_rtp(data)
    assert {k: getattr(packet, k) for k in fields} == fields
    header = (
        FIXED_HEADER_LEN
        + 4 * len(packet.csrcs)
        + (0 if packet.extension is None else 4 + len(packet.extension))
    )
    padding = data[-1] if data[0] & 0x20 else 0
    assert len(packet.payload) == len(data) - header - padding


@given(packets(), st.integers(1, 20))
def test_a_truncated_packet_is_an_rtp_error_or_a_shorter_payload(
    built: tuple[bytes, dict[str, object]], cut: int
) -> None:
    data, _ = built
    try:
        packet = parse_rtp(data[:-cut])
    except RtpError:
        return
    assert len(packet.payload) < max(len(data) - cut, 1)


@given(st.binary(max_size=700))
def test_slin16_gives_one_sample_per_two_bytes(payload: bytes) -> None:
    assert len(slin16_samples(payload)) == len(payload) // 2


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2**16 - 1)), max_size=200))
def test_the_sequence_filter_never_accepts_the_same_packet_twice_in_a_row(
    arrivals: list[tuple[int, int]],
) -> None:
    seq_filter = SequenceFilter()
    last: tuple[int, int] | None = None
    for ssrc, seq in arrivals:
        packet = RtpPacket(0, False, seq, 0, ssrc, (), None, b"")
        accepted = seq_filter.accept(packet)
        if (ssrc, seq) == last:
            assert not accepted
        if accepted:
            last = (ssrc, seq)
