"""ivr.testing.rtp_pcap: one continuous PCMU + RFC 4733 stream in a SIPp-playable pcap."""

from __future__ import annotations

import itertools
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ivr.testing.rtp_pcap import (
    Audio,
    Dtmf,
    PcapBuildError,
    Silence,
    caller_pcap,
    mulaw_decode,
    mulaw_encode,
    write_pcap,
)
from tests.testing.pcap_reader import ReadPacket, event_fields, read_rtp_pcap

SAMPLE_PCAP = Path("/usr/share/sip-tester/dtmf_2833_1.pcap")


def _events(packets: list[ReadPacket]) -> list[list[ReadPacket]]:
    """Group telephone-event packets by their (shared) RTP timestamp, in stream order."""
    groups: dict[int, list[ReadPacket]] = {}
    for packet in packets:
        if packet.payload_type == 101:
            groups.setdefault(packet.timestamp, []).append(packet)
    return list(groups.values())


def test_stream_is_continuous_and_events_follow_rfc4733(tmp_path: Path) -> None:
    keys = "0123456789*#"
    path = write_pcap(tmp_path / "s.pcap", [Silence(0.5), Dtmf(keys), Silence(0.3)])
    packets = read_rtp_pcap(path)

    assert {p.version for p in packets} == {2}
    assert len({p.ssrc for p in packets}) == 1
    assert {p.payload_type for p in packets} == {0, 101}
    for before, after in itertools.pairwise(packets):
        assert after.sequence == (before.sequence + 1) & 0xFFFF
        assert after.time_s == pytest.approx(before.time_s + 0.02, abs=2e-6)
    first_ts = packets[0].timestamp
    for index, packet in enumerate(packets):
        if packet.payload_type == 0:
            # the audio clock keeps running through events: +160 per 20 ms tick
            assert packet.timestamp == first_ts + 160 * index
            assert len(packet.payload) == 160
        else:
            assert len(packet.payload) == 4

    events = _events(packets)
    assert [event_fields(group[0].payload)[0] for group in events] == [*range(10), 10, 11]
    for group in events:
        start_tick = (group[0].timestamp - first_ts) // 160
        assert packets[start_tick] is group[0]  # the event starts at its own tick
        assert group[0].marker and not any(p.marker for p in group[1:])
        fields = [event_fields(p.payload) for p in group]
        assert len({code for code, *_ in fields}) == 1
        assert {volume for _, _, volume, _ in fields} == {10}
        durations = [duration for *_, duration in fields]
        assert durations == sorted(durations) and durations[0] == 160
        ends = [end for _, end, _, _ in fields]
        assert ends[-3:] == [True, True, True] and not any(ends[:-3])
        assert durations[-3:] == [1280] * 3  # 160 ms
    # no event overlaps the next audio packet's timestamp
    for group in events:
        last_duration = event_fields(group[-1].payload)[3]
        later_audio = [p for p in packets if p.payload_type == 0 and p.sequence > group[-1].sequence]
        assert later_audio[0].timestamp >= group[0].timestamp + last_duration


def test_dtmf_timing_parameters(tmp_path: Path) -> None:
    path = write_pcap(tmp_path / "d.pcap", [Dtmf("5", duration_ms=100, gap_ms=400, volume=7)])
    packets = read_rtp_pcap(path)
    event = [p for p in packets if p.payload_type == 101]
    assert len(event) == 5 + 2  # 100 ms of updates, 2 retransmitted end packets
    assert event_fields(event[0].payload) == (5, False, 7, 160)
    assert event_fields(event[-1].payload) == (5, True, 7, 800)
    assert len(packets) == 5 + 20  # then the gap: 400 ms in all after the tone


def test_link_format_matches_sipp_samples(tmp_path: Path) -> None:
    path = caller_pcap(tmp_path / "c.pcap", "42", lead_silence_s=0.1, trailing_silence_s=0.1)
    ours = read_rtp_pcap(path)
    if SAMPLE_PCAP.exists():
        assert ours[0].linktype == read_rtp_pcap(SAMPLE_PCAP)[0].linktype == 1
    # IPv4 header checksum verifies
    raw = path.read_bytes()
    ip = raw[24 + 16 + 14 : 24 + 16 + 14 + 20]
    total = sum(struct.unpack("!10H", ip))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    assert total == 0xFFFF
    assert [event_fields(g[0].payload)[0] for g in _events(ours)] == [4, 2]
    assert ours[0].payload_type == 0 and ours[-1].payload_type == 0


def test_mulaw_round_trip() -> None:
    assert mulaw_encode([0]) == b"\xff"
    assert mulaw_encode([32767, -32768]) == b"\x80\x00"
    assert list(mulaw_decode(b"\xff\x7f\x80\x00")) == [0, 0, 32124, -32124]
    # every code decodes and re-encodes to itself (0x7f is -0, the same as 0xff)
    codes = bytes(range(256))
    again = mulaw_encode(mulaw_decode(codes))
    assert [a for a, b in zip(codes, again, strict=True) if a != b] == [0x7F]
    # the quantisation error stays within half a step (≤ 3 % of the magnitude + bias)
    pcm = np.arange(-32000, 32000, 37, dtype=np.int16)
    error = np.abs(mulaw_decode(mulaw_encode(pcm)).astype(int) - pcm.astype(int))
    assert np.all(error <= np.abs(pcm.astype(int)) * 0.035 + 8)


def test_audio_samples_become_pcmu_packets(tmp_path: Path) -> None:
    tone = (8000 * np.sin(2 * np.pi * 440 * np.arange(8000) / 8000)).astype(np.int16)
    packets = read_rtp_pcap(write_pcap(tmp_path / "a.pcap", [Audio(tone[:7940])]))
    assert len(packets) == 50  # 7940 samples -> 50 packets, the last padded with silence
    decoded = np.concatenate([mulaw_decode(p.payload) for p in packets])
    assert np.abs(decoded[:7940].astype(int) - tone[:7940]).max() < 300
    assert set(packets[-1].payload[-20:]) == {0xFF}


@pytest.mark.skipif(shutil.which("sox") is None, reason="needs sox")
def test_audio_from_sound_file(tmp_path: Path) -> None:
    wav = tmp_path / "tone.wav"
    subprocess.run(
        ["sox", "-n", "-r", "16000", "-b", "16", str(wav), "synth", "0.5", "sine", "1000"], check=True
    )
    packets = read_rtp_pcap(write_pcap(tmp_path / "f.pcap", [Audio(wav), Dtmf("1")]))
    audio = [p for p in packets if p.payload_type == 0]
    assert len(audio) >= 25  # 0.5 s resampled to 8 kHz, then the gap
    assert max(abs(int(v)) for v in mulaw_decode(audio[5].payload)) > 10000


def test_bad_segments_are_reported(tmp_path: Path) -> None:
    with pytest.raises(PcapBuildError, match="not a DTMF key"):
        write_pcap(tmp_path / "x.pcap", [Dtmf("1x")])
    with pytest.raises(PcapBuildError, match="volume"):
        write_pcap(tmp_path / "x.pcap", [Dtmf("1", volume=64)])
    with pytest.raises(PcapBuildError, match="not found"):
        write_pcap(tmp_path / "x.pcap", [Audio(tmp_path / "missing.wav")])
