"""A small, independent pcap/RTP reader used to check what ivr.testing.rtp_pcap writes."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReadPacket:
    time_s: float
    linktype: int
    src_port: int
    dst_port: int
    version: int
    marker: bool
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes


def read_rtp_pcap(path: Path) -> list[ReadPacket]:
    data = path.read_bytes()
    magic, major, minor, _tz, _sig, _snap, linktype = struct.unpack("<IHHiIII", data[:24])
    assert magic == 0xA1B2C3D4 and (major, minor) == (2, 4)
    packets: list[ReadPacket] = []
    offset = 24
    first_time: float | None = None
    while offset < len(data):
        sec, usec, incl, orig = struct.unpack("<IIII", data[offset : offset + 16])
        assert incl == orig
        frame = data[offset + 16 : offset + 16 + incl]
        offset += 16 + incl
        assert struct.unpack("!H", frame[12:14])[0] == 0x0800  # Ethernet II, IPv4
        ip = frame[14:]
        ihl = (ip[0] & 0x0F) * 4
        assert ip[0] >> 4 == 4 and ip[9] == 17  # IPv4, UDP
        total_len = struct.unpack("!H", ip[2:4])[0]
        assert total_len == len(ip)
        udp = ip[ihl:]
        src_port, dst_port, udp_len = struct.unpack("!HHH", udp[:6])
        assert udp_len == len(udp)
        rtp = udp[8:]
        b0, b1, seq, ts, ssrc = struct.unpack("!BBHII", rtp[:12])
        now = sec + usec / 1_000_000
        if first_time is None:
            first_time = now
        packets.append(
            ReadPacket(
                time_s=round(now - first_time, 6),
                linktype=linktype,
                src_port=src_port,
                dst_port=dst_port,
                version=b0 >> 6,
                marker=bool(b1 & 0x80),
                payload_type=b1 & 0x7F,
                sequence=seq,
                timestamp=ts,
                ssrc=ssrc,
                payload=rtp[12:],
            )
        )
    return packets


def event_fields(payload: bytes) -> tuple[int, bool, int, int]:
    """(event code, end bit, volume, duration) of an RFC 4733 payload."""
    code, flags, duration = struct.unpack("!BBH", payload[:4])
    return code, bool(flags & 0x80), flags & 0x3F, duration
