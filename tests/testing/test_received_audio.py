from __future__ import annotations

import struct

import numpy as np
import pytest

from ivr.testing.received_audio import (
    RtpDatagram,
    assemble_pcmu,
    heard_digits,
    parse_rtp,
    speech_spans,
    upsample_2x,
)
from ivr.testing.rtp_pcap import Audio, Dtmf, RtpPacket, Silence, mulaw_encode, rtp_packets


def _tone(freq: float, seconds: float, rate: int, amplitude: float = 8000.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def _datagrams(packets: list[RtpPacket], arrival: list[float]) -> list[RtpDatagram]:
    out = []
    for packet, at in zip(packets, arrival, strict=True):
        parsed = parse_rtp(packet.to_bytes(), at)
        assert parsed is not None
        out.append(parsed)
    return out


def test_parse_rtp_reads_the_header_and_payload() -> None:
    packet = rtp_packets([Audio(_tone(440, 0.02, 8000))])[0]
    parsed = parse_rtp(packet.to_bytes(), 1.5)
    assert parsed == RtpDatagram(1.5, 0, packet.sequence, packet.timestamp, packet.ssrc, packet.payload)


def test_parse_rtp_skips_csrcs_extension_and_padding() -> None:
    payload = bytes(range(10))
    first = 0x80 | 0x20 | 0x10 | 2  # padding, extension, two CSRCs
    header = struct.pack("!BBHII", first, 0, 7, 160, 0xABCD) + b"\0" * 8
    extension = struct.pack("!HH", 0xBEDE, 1) + b"\0" * 4
    padding = b"\0\0\3"
    parsed = parse_rtp(header + extension + payload + padding, 0.0)
    assert parsed is not None and parsed.payload == payload and parsed.sequence == 7


@pytest.mark.parametrize(
    "data", [b"", b"\x80" * 11, b"\x40" + b"\0" * 20, struct.pack("!BBHII", 0x8F, 0, 1, 1, 1)]
)
def test_parse_rtp_rejects_what_is_not_rtp(data: bytes) -> None:
    assert parse_rtp(data, 0.0) is None


def test_pcmu_stream_decodes_to_the_tone_it_carried() -> None:
    tone = _tone(1000, 1.0, 8000)
    packets = rtp_packets([Audio(tone)])
    audio = assemble_pcmu(_datagrams(packets, [i * 0.02 for i in range(len(packets))]))
    assert audio.size == tone.size
    # μ-law keeps a 1 kHz tone within a few percent
    assert np.abs(audio.astype(float) - tone).max() < 0.05 * 8000


def test_dtmf_events_and_duplicates_are_left_out() -> None:
    packets = rtp_packets([Audio(_tone(500, 0.1, 8000)), Dtmf("5"), Audio(_tone(500, 0.1, 8000))])
    arrival = [i * 0.02 for i in range(len(packets))]
    datagrams = _datagrams(packets, arrival)
    audio = assemble_pcmu(datagrams + datagrams[:3])  # three packets arrive twice
    # the event's time is kept, as silence; no packet is laid twice
    assert audio.size == len(packets) * 160
    events = [i for i, p in enumerate(packets) if p.payload_type != 0]
    assert not audio[events[0] * 160 : (events[-1] + 1) * 160].any()
    assert audio[:800].any() and audio[-800:].any()


def test_a_pause_in_arrival_becomes_silence_and_jitter_does_not() -> None:
    packets = rtp_packets([Audio(_tone(500, 0.2, 8000))])  # 10 packets
    arrival = [i * 0.02 for i in range(5)] + [1.0 + i * 0.02 for i in range(5)]
    audio = assemble_pcmu(_datagrams(packets, arrival))
    gap = 1.0 - 4 * 0.02 - 0.02  # from the end of packet 5 to the start of packet 6
    assert audio.size == pytest.approx(10 * 160 + gap * 8000, abs=160)
    assert not audio[5 * 160 : 5 * 160 + int(gap * 8000) - 160].any()

    jittery = [i * 0.02 + (0.03 if i % 2 else 0.0) for i in range(10)]
    assert assemble_pcmu(_datagrams(packets, jittery)).size == 10 * 160


def test_upsampling_keeps_a_tone_and_removes_its_image() -> None:
    tone = _tone(1000, 0.5, 8000)
    up = upsample_2x(tone).astype(float)
    assert up.size == 2 * tone.size
    spectrum = np.abs(np.fft.rfft(up[800:-800]))
    freqs = np.fft.rfftfreq(up[800:-800].size, 1 / 16000)
    assert freqs[spectrum.argmax()] == pytest.approx(1000, abs=5)
    image = spectrum[(freqs > 6900) & (freqs < 7100)].max()
    assert image < spectrum.max() / 100  # the 7 kHz mirror of zero-stuffing is filtered out
    reference = _tone(1000, 0.5, 16000).astype(float)
    assert np.sqrt(np.mean(up[800:-800] ** 2)) == pytest.approx(np.sqrt(np.mean(reference**2)), rel=0.05)


def test_speech_spans_split_at_pauses_only() -> None:
    rate = 16000
    word = _tone(300, 0.5, rate)
    short, long = np.zeros(int(0.3 * rate), np.int16), np.zeros(int(1.5 * rate), np.int16)
    audio = np.concatenate([long, word, short, word, long, word, long])
    spans = speech_spans(audio, rate, min_gap_s=0.7, pad_s=0.0)
    assert [(round(a / rate, 2), round(b / rate, 2)) for a, b in spans] == [(1.5, 2.8), (4.3, 4.8)]
    assert len(speech_spans(audio, rate, min_gap_s=0.2, pad_s=0.0)) == 3
    click = np.concatenate([long, _tone(300, 0.04, rate), long])
    assert speech_spans(click, rate) == []
    assert speech_spans(np.zeros(rate, np.int16), rate) == []


@pytest.mark.parametrize(
    ("text", "lang", "digits"),
    [
        ("You entered four two seven one. Is that correct?", "en", "4271"),
        ("you enter 4 2 7 1 goodbye", "en", "4271"),
        ("Press 1 or say yes, press 2 or say no.", "en", "12"),
        ("Oh, hello there", "en", ""),
        ("ご注文番号は4、2、7、1でよろしいですか?", "ja", "4271"),
        ("ご注文番号は よん、に、なな、いち でよろしいですか", "ja", "4271"),
        ("ご注文番号は四二七一です", "ja", "4271"),
        ("ご注文番号は", "ja", ""),  # に inside a word is a particle, not 2
    ],
)
def test_heard_digits(text: str, lang: str, digits: str) -> None:
    assert heard_digits(text, lang) == digits


def test_silence_segments_are_silent_after_decoding() -> None:
    packets = rtp_packets([Silence(0.2)])
    audio = assemble_pcmu(_datagrams(packets, [i * 0.02 for i in range(len(packets))]))
    assert audio.size == 1600 and not audio.any()
    assert mulaw_encode(audio)[:1] == b"\xff"
