"""Which voice speaks which language: ``IVR_TTS`` = ``natural`` (default) | ``espeak``.

``natural``: Open JTalk's "mei" for Japanese, Piper's "joe" for English, espeak-ng for anything else.
A natural voice whose package or voice file is missing, or that cannot load, is replaced by its
espeak-ng voice with one log line; the controller never fails to start over a voice.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ivr.tts.engine import EspeakSynthesizer, SynthesisError, Synthesizer
from ivr.tts.natural import VoiceLoadError, WorkerSynthesizer
from ivr.tts.voices import OPENJTALK_VOICE_ID, PIPER_VOICE_ID, VoiceFiles, openjtalk_voice, piper_voice

log = logging.getLogger(__name__)

TTS_ENV = "IVR_TTS"
MODES = ("natural", "espeak")
ESPEAK_VOICES: dict[str, str] = {"en": "gmw/en-us", "ja": "jpx/ja"}
"""espeak-ng voice ids as pyttsx3 lists them (``pyttsx3.init('espeak').getProperty('voices')``)."""


@dataclass(frozen=True)
class NaturalVoice:
    lang: str
    voice_id: str  # what the renderer passes as ``voice`` (part of the cache key)
    files: VoiceFiles
    label: str  # for log lines: "Open JTalk", "Piper"


def natural_voices(*, htsvoice: Path | None = None, piper_model: Path | None = None) -> list[NaturalVoice]:
    return [
        NaturalVoice("ja", OPENJTALK_VOICE_ID, openjtalk_voice(htsvoice), "Open JTalk"),
        NaturalVoice("en", PIPER_VOICE_ID, piper_voice(piper_model), "Piper"),
    ]


class VoiceRouter:
    """A ``Synthesizer`` that sends each voice id to its engine; unknown ids go to espeak-ng.

    ``version()`` combines the engines' versions (package versions and voice file hashes: no voice is
    loaded for it, so cached prompts play at once after a restart). A natural voice whose child cannot
    load it fails that one request (the renderer plays its fallback) and is logged once; from then on
    its language is spoken by espeak-ng, under a new version, so no espeak audio is ever cached under
    the natural voice's key.
    """

    def __init__(self, engines: Mapping[str, tuple[WorkerSynthesizer, str]], espeak: Synthesizer) -> None:
        self._engines = dict(engines)  # voice id → (engine, espeak voice to use instead)
        self._espeak = espeak
        self._fallback: dict[str, str] = {}  # voice id → espeak voice, for engines that failed
        self._version: str | None = None
        self._lock = asyncio.Lock()

    async def version(self) -> str:
        async with self._lock:
            if self._version is None:
                natural = [v for v in self._engines if v not in self._fallback]
                parts = list(await asyncio.gather(*(self._engine_version(v) for v in natural)))
                try:
                    espeak = await self._espeak.version()
                except SynthesisError as exc:
                    if not any(parts):
                        raise  # nothing can speak: the renderer falls back and retries later
                    log.warning("espeak-ng unavailable (%s); only the natural voices speak", exc)
                    espeak = "espeak:unavailable"
                self._version = "+".join([p for p in parts if p] + [espeak])
            return self._version

    def espeak_voice_for(self, voice: str) -> str | None:
        """The espeak voice used for ``voice`` since its engine failed to load, else None."""
        return self._fallback.get(voice)

    async def synthesize(self, text: str, voice: str, rate: int, out_wav: Path) -> None:
        entry = self._engines.get(voice)
        if entry is None or voice in self._fallback:
            await self._espeak.synthesize(text, self._fallback.get(voice, voice), rate, out_wav)
            return
        try:
            await entry[0].synthesize(text, voice, rate, out_wav)
        except VoiceLoadError as exc:
            self._use_espeak(voice, str(exc))
            raise

    async def aclose(self) -> None:
        await asyncio.gather(*(engine.aclose() for engine, _ in self._engines.values()))

    async def _engine_version(self, voice: str) -> str | None:
        try:
            return await self._engines[voice][0].version()
        except SynthesisError as exc:
            self._use_espeak(voice, str(exc))
            return None

    def _use_espeak(self, voice: str, why: str) -> None:
        engine, espeak_voice = self._engines[voice]
        if voice not in self._fallback:
            log.error("%s cannot load (%s); voice %s is spoken by espeak-ng %s from now on",
                      engine.name, why, voice, espeak_voice)  # fmt: skip
            self._fallback[voice] = espeak_voice
            self._version = None  # the next version() leaves this engine out


@dataclass(frozen=True)
class TtsChoice:
    voices: dict[str, str]  # language → voice id, for PromptRenderer(voices=…)
    synthesizer: Synthesizer


def choose_tts(mode: str = "natural", *, candidates: list[NaturalVoice] | None = None) -> TtsChoice:
    """Voices and synthesizer for ``mode``; missing natural voices fall back to espeak-ng (one log line)."""
    espeak = EspeakSynthesizer()
    if mode == "espeak":
        return TtsChoice(dict(ESPEAK_VOICES), espeak)
    if mode != "natural":
        log.error("%s=%r is not one of %s; using natural", TTS_ENV, mode, ", ".join(MODES))
    voices = dict(ESPEAK_VOICES)
    engines: dict[str, tuple[WorkerSynthesizer, str]] = {}
    for natural in candidates if candidates is not None else natural_voices():
        espeak_voice = ESPEAK_VOICES.get(natural.lang, natural.lang)
        why = natural.files.missing()
        if why is not None:
            log.warning("%s voice unavailable (%s); %s prompts are spoken by espeak-ng",
                        natural.label, why, natural.lang)  # fmt: skip
            continue
        voices[natural.lang] = natural.voice_id
        engines[natural.voice_id] = (WorkerSynthesizer(natural.files), espeak_voice)
    return TtsChoice(voices, VoiceRouter(engines, espeak))


def tts_from_env(environ: Mapping[str, str] | None = None) -> TtsChoice:
    env = os.environ if environ is None else environ
    return choose_tts((env.get(TTS_ENV) or "natural").strip().lower())
