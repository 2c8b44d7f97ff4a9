"""Speech synthesis and telephone conversion as child processes, so the event loop never blocks.

``EspeakSynthesizer`` runs one ``python -m ivr.tts.synth`` child per prompt (pyttsx3 then never
shares state between syntheses). ``to_telephone_wav`` runs sox. Arguments are always lists and
text goes through stdin: nothing reaches a shell.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Protocol

from ivr.speech_text import has_ideographs

log = logging.getLogger(__name__)

SOX_FORMAT = "sox:8000Hz/mono/s16/wav/v1"
"""Part of the cache key: change it when the conversion below changes."""


class SynthesisError(Exception):
    """Synthesis or conversion failed; the message says which step and why."""


class Synthesizer(Protocol):
    async def version(self) -> str:
        """A string that changes whenever the audio for the same text could change."""
        ...

    async def synthesize(self, text: str, voice: str, rate: int, out_wav: Path) -> None:
        """Write speech for ``text`` to ``out_wav`` (any WAV sox can read) or raise SynthesisError."""
        ...


async def _run(argv: list[str], stdin: bytes | None, limit_s: float, what: str) -> bytes:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise SynthesisError(f"{what}: cannot start {argv[0]}: {exc}") from exc
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), limit_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise SynthesisError(f"{what}: no result after {limit_s:.0f} s (child {proc.pid} killed)") from None
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    if proc.returncode != 0:
        detail = err.decode("utf-8", "replace").strip().splitlines()
        raise SynthesisError(f"{what}: exit {proc.returncode}: {detail[-1] if detail else 'no message'}")
    return out


class EspeakSynthesizer:
    """pyttsx3 (espeak-ng driver) in a child process per synthesis."""

    def __init__(self, *, python: str = sys.executable, limit_s: float = 30.0) -> None:
        self._python = python
        self._limit_s = limit_s
        self._version: str | None = None
        self._version_lock = asyncio.Lock()

    async def version(self) -> str:
        async with self._version_lock:  # the first prompts of a call arrive together: ask once
            if self._version is None:
                out = await _run(
                    [self._python, "-m", "ivr.tts.synth", "--version"], None, self._limit_s, "espeak version"
                )
                self._version = out.decode().strip()
            return self._version

    async def synthesize(self, text: str, voice: str, rate: int, out_wav: Path) -> None:
        if voice.startswith("jpx/") and has_ideographs(text):
            log.warning("espeak-ng reads kanji as 'Chinese letter'; write Japanese prompts in kana: %r", text)
        argv = [self._python, "-m", "ivr.tts.synth", "--voice", voice, "--rate", str(rate)]
        argv += ["--out", str(out_wav)]
        await _run(argv, text.encode("utf-8"), self._limit_s, f"pyttsx3 voice {voice}")


async def to_telephone_wav(src: Path, dst: Path, *, sox: str = "sox", limit_s: float = 30.0) -> None:
    """Convert ``src`` to what Asterisk plays natively as ``.wav``: 8 kHz, mono, signed 16-bit PCM."""
    argv = [sox, "-q", str(src), "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer"]
    argv += ["-t", "wav", str(dst)]
    await _run(argv, None, limit_s, "sox 8 kHz conversion")
