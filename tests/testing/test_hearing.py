from __future__ import annotations

import asyncio
import socket
import wave
from pathlib import Path

import numpy as np

from ivr.testing.hearing import LISTENING_CALLER, CallerMedia, write_wav
from ivr.testing.received_audio import parse_rtp
from ivr.testing.rtp_pcap import Audio, Dtmf, Silence, rtp_packets


def _far_end() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    return sock


async def _drain(sock: socket.socket, seconds: float) -> list[bytes]:
    got: list[bytes] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        try:
            got.append(sock.recv(2048))
        except BlockingIOError:
            await asyncio.sleep(0.01)
    return got


async def test_caller_media_records_and_answers_from_the_same_port() -> None:
    tone = (8000 * np.sin(np.arange(1600) * 2 * np.pi * 440 / 8000)).astype(np.int16)
    far_end = _far_end()
    async with await CallerMedia.open() as media:
        media.play([Silence(0.04), Dtmf("7", duration_ms=40, gap_ms=60)])
        assert await _drain(far_end, 0.2) == []  # nothing is sent before the far end is heard
        for packet in rtp_packets([Audio(tone)]):
            far_end.sendto(packet.to_bytes(), ("127.0.0.1", media.port))
            await asyncio.sleep(0.005)
        back = await _drain(far_end, 0.6)
        audio = media.audio8k()
    address = far_end.getsockname()
    far_end.close()

    assert media.far_end == address
    assert audio.size == tone.size and np.abs(audio.astype(float) - tone).max() < 400
    sent = [p for p in (parse_rtp(d, 0.0) for d in back) if p is not None]
    expected = rtp_packets([Silence(0.04), Dtmf("7", duration_ms=40, gap_ms=60)])
    assert [(p.payload_type, p.sequence) for p in sent] == [(p.payload_type, p.sequence) for p in expected]
    assert media.sent == len(expected)


async def test_caller_media_ignores_what_is_not_rtp() -> None:
    far_end = _far_end()
    async with await CallerMedia.open() as media:
        far_end.sendto(b"hello", ("127.0.0.1", media.port))
        await asyncio.sleep(0.1)
        assert media.received == [] and media.far_end is None
    far_end.close()


def test_write_wav_and_the_scenario(tmp_path: Path) -> None:
    samples = np.arange(-100, 100, dtype=np.int16)
    with wave.open(str(write_wav(tmp_path / "x.wav", samples))) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        assert np.array_equal(np.frombuffer(wav.readframes(200), "<i2"), samples)
    scenario = LISTENING_CALLER.read_text()
    assert "m=audio [rtp_sink_port] RTP/AVP 0 101" in scenario
    assert "play_pcap_audio" not in scenario  # the test's socket speaks for the caller
