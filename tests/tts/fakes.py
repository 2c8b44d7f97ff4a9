"""Synthesizers for the TTS tests: one that counts real calls, one that writes a tone."""

from __future__ import annotations

import asyncio
import math
import struct
import wave
from pathlib import Path

from ivr.tts.engine import EspeakSynthesizer


def write_tone(path: Path, seconds: float = 0.3, rate: int = 22050) -> None:
    samples = (int(8000 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(seconds * rate)))
    frames = b"".join(struct.pack("<h", s) for s in samples)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(frames)


class CountingSynthesizer:
    """The real espeak synthesizer, recording every (text, voice) it is asked for."""

    def __init__(self) -> None:
        self.real = EspeakSynthesizer()
        self.calls: list[tuple[str, str]] = []

    async def version(self) -> str:
        return await self.real.version()

    async def synthesize(self, text: str, voice: str, rate: int, out_wav: Path) -> None:
        self.calls.append((text, voice))
        await self.real.synthesize(text, voice, rate, out_wav)


class ToneSynthesizer:
    """Writes a tone; waits for ``release`` first so tests can pile up concurrent requests."""

    def __init__(self, *, fail: Exception | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()
        self.fail = fail

    async def version(self) -> str:
        return "tone-1"

    async def synthesize(self, text: str, voice: str, rate: int, out_wav: Path) -> None:
        self.calls.append((text, voice))
        self.started.set()
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        write_tone(out_wav)


def media_uri(path: Path) -> str:
    return f"sound:{path}"
