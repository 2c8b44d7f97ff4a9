"""Ears for the real-Asterisk tests: a SIPp caller whose media is a socket of the test, and Whisper.

SIPp places the call (scenario ``caller_listens``: its SDP offers 127.0.0.1:<the socket's port>) and
only signals. :class:`CallerMedia` is the caller's RTP endpoint: it records every datagram Asterisk
sends and, from the far end's first packet on, plays the caller's own stream — speech and RFC 4733
keys rendered by :mod:`ivr.testing.rtp_pcap` — from the same port, paced on its 20 ms clock. One
port for both directions is what Asterisk's trunk expects (``rtp_symmetric``: it sends to where the
caller's RTP comes from, so SIPp's own pcap player would steer the audio away from a separate sink).

:class:`Ears` transcribes the recording with the embedded Whisper engine
(:class:`ivr.asr.engines.whisper.WhisperEngine`, loaded directly — not through the controller),
prompt by prompt (:func:`ivr.testing.received_audio.speech_spans`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import unicodedata
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from types import TracebackType
from typing import cast

import numpy as np
import numpy.typing as npt

from ivr.asr.engines.whisper import WhisperEngine
from ivr.asr.whisper_model import model_dir
from ivr.testing.received_audio import (
    RATE_16K,
    RtpDatagram,
    assemble_pcmu,
    parse_rtp,
    speech_spans,
    upsample_2x,
)
from ivr.testing.rtp_pcap import Segment, rtp_packets
from ivr.testing.sipp import SCENARIOS_DIR, SippResult, run_sipp

LISTENING_CALLER = SCENARIOS_DIR / "caller_listens.xml"
TOKENS_PER_SECOND = 12  # decoding budget per second of a span (a fast talker says ~4 words a second)


class CallerMedia(asyncio.DatagramProtocol):
    """A caller's RTP endpoint on 127.0.0.1: records what arrives, plays the caller's stream back."""

    def __init__(self) -> None:
        self.received: list[RtpDatagram] = []
        self.far_end: tuple[str, int] | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._heard_far_end = asyncio.Event()
        self._player: asyncio.Task[None] | None = None
        self.sent = 0

    @classmethod
    async def open(cls, host: str = "127.0.0.1", port: int = 0) -> CallerMedia:
        loop = asyncio.get_running_loop()
        _, media = await loop.create_datagram_endpoint(cls, local_addr=(host, port))
        return media

    @property
    def port(self) -> int:
        if self._transport is None:
            raise RuntimeError("CallerMedia is not open")
        return int(self._transport.get_extra_info("sockname")[1])

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)  # selector transports do not subclass it

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        packet = parse_rtp(data, time.monotonic())
        if packet is None:
            return
        self.received.append(packet)
        if self.far_end is None:
            self.far_end = (str(addr[0]), int(addr[1]))
            self._heard_far_end.set()

    def play(self, segments: Sequence[Segment], *, wait_far_end_s: float = 30.0) -> None:
        """Send the caller's stream once the far end has sent its first packet (its address)."""
        if self._player is not None:
            raise RuntimeError("CallerMedia plays one stream")
        self._player = asyncio.create_task(self._play(list(segments), wait_far_end_s))

    async def _play(self, segments: list[Segment], wait_far_end_s: float) -> None:
        packets = rtp_packets(segments)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._heard_far_end.wait(), wait_far_end_s)
        if self.far_end is None or self._transport is None:
            return
        loop = asyncio.get_running_loop()
        start = loop.time()
        for packet in packets:
            delay = start + packet.time_s - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if self._transport.is_closing():
                return
            self._transport.sendto(packet.to_bytes(), self.far_end)
            self.sent += 1

    def audio8k(self) -> npt.NDArray[np.int16]:
        return assemble_pcmu(self.received)

    def audio16k(self) -> npt.NDArray[np.int16]:
        return upsample_2x(self.audio8k())

    async def aclose(self) -> None:
        if self._player is not None:
            self._player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._player
        if self._transport is not None:
            self._transport.close()

    async def __aenter__(self) -> CallerMedia:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


@dataclass(frozen=True)
class HeardCall:
    """A finished listening call: SIPp's result, the 16 kHz audio the caller received, packets sent."""

    result: SippResult
    audio: npt.NDArray[np.int16]
    sent_packets: int

    @property
    def seconds(self) -> float:
        return self.audio.size / RATE_16K


async def listening_call(
    target: str,
    *,
    service: str,
    segments: Sequence[Segment],
    caller: str,
    display: str = "Listening Caller",
    timeout_s: float = 60.0,
) -> HeardCall:
    """Call ``service`` at ``target`` (SIPp), send ``segments`` as the caller, record until the IVR's BYE."""
    async with await CallerMedia.open() as media:
        media.play(segments)
        result = await run_sipp(
            LISTENING_CALLER,
            target,
            service=service,
            keys={"caller": caller, "display": display, "rtp_sink_port": str(media.port)},
            timeout_s=timeout_s,
            recv_timeout_s=timeout_s - 5,
        )
        await asyncio.sleep(0.1)  # the last packets in flight
        return HeardCall(result, media.audio16k(), media.sent)


@dataclass(frozen=True)
class HeardSpan:
    """One stretch of sound in a recording (seconds from its start) and what Whisper made of it."""

    start_s: float
    end_s: float
    text: str


class Ears:
    """Whisper transcribing recordings span by span (one model; load once per test module)."""

    def __init__(self, engine: WhisperEngine) -> None:
        self.engine = engine

    @classmethod
    def load(cls, directory: Path | None = None) -> Ears:
        return cls(
            WhisperEngine(directory if directory is not None else model_dir(), workers=1, cpu_threads=2)
        )

    def spans(
        self, audio: npt.NDArray[np.int16], lang: str, *, prompt: str = "", min_gap_s: float = 0.7
    ) -> list[HeardSpan]:
        """Each stretch of sound (split at pauses of ``min_gap_s``) transcribed in ``lang``."""
        out: list[HeardSpan] = []
        for start, end in speech_spans(audio, RATE_16K, min_gap_s=min_gap_s):
            piece = audio[start:end]
            budget = min(400, int(TOKENS_PER_SECOND * piece.size / RATE_16K) + 16)
            heard = self.engine.transcribe(piece, lang, prompt, budget)
            out.append(HeardSpan(start / RATE_16K, end / RATE_16K, heard.text if heard else ""))
        return out

    def transcribe(self, audio: npt.NDArray[np.int16], lang: str, *, prompt: str = "") -> str:
        """The whole recording as text: its spans' transcripts joined by spaces."""
        return " ".join(span.text for span in self.spans(audio, lang, prompt=prompt) if span.text)

    def closest_reading(
        self,
        audio: npt.NDArray[np.int16],
        lang: str,
        choices: Sequence[str],
        *,
        words: int,
        min_gap_s: float = 0.25,
        first_spans: int = 8,
        min_ratio: float = 0.75,
    ) -> tuple[str, str] | None:
        """Which of ``choices`` (readings of the same words, e.g. ``よん、に、なな、いち`` and
        ``よん、に、しち、いち``) the recording says: a closed-set decision, (choice, transcript) or None.

        Whisper writes "7" for both なな and しち inside a sentence, so the words are cut out: every run of
        ``words`` − 1 … ``words`` + 1 consecutive short spans (pauses of ``min_gap_s``; the first
        ``first_spans`` of the recording) is transcribed with all the choices as the prompt — the same
        script for each, so the prompt favours none — and the best match over all runs wins, if its
        similarity (difflib, spaces and punctuation dropped, katakana as hiragana) reaches ``min_ratio``
        and no other choice matches it as well."""
        spans = speech_spans(audio, RATE_16K, min_gap_s=min_gap_s)[:first_spans]
        prompt = "。".join(choices) + "。"
        wanted = {choice: _kana_key(choice) for choice in choices}
        best: tuple[float, float, str, str] | None = None  # (ratio, margin, choice, transcript)
        for length in range(max(1, words - 1), words + 2):
            for first in range(len(spans) - length + 1):
                start, end = spans[first][0], spans[first + length - 1][1]
                budget = int(TOKENS_PER_SECOND * (end - start) / RATE_16K) + 16
                heard = self.engine.transcribe(audio[start:end], lang, prompt, budget)
                if heard is None:
                    continue
                said = _kana_key(heard.text)
                ratios = sorted(
                    ((SequenceMatcher(None, said, key).ratio(), choice) for choice, key in wanted.items()),
                    reverse=True,
                )
                ratio, choice = ratios[0]
                margin = ratio - ratios[1][0] if len(ratios) > 1 else ratio
                if best is None or (ratio, margin) > best[:2]:
                    best = (ratio, margin, choice, heard.text)
        if best is None or best[0] < min_ratio or best[1] <= 0:
            return None
        return best[2], best[3]


def _kana_key(text: str) -> str:
    """Text to compare readings: NFKC, katakana folded to hiragana, only letters and digits kept."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    hiragana = "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in folded)
    return "".join(ch for ch in hiragana if ch.isalnum())


def write_wav(path: Path, samples: npt.NDArray[np.int16], rate: int = RATE_16K) -> Path:
    """Mono 16-bit WAV (to listen to what a test heard)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path
