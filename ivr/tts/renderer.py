"""Prompts → ARI media URIs: ``sound:…`` for files, silences and synthesised speech, ``digits:…``.

Speech is synthesised once per (text, lang, voice, rate, engine version), converted to 8 kHz mono
16-bit WAV and kept in ``sounds_dir`` under a hash name. A call never sees an exception from
here: whatever fails is logged and replaced by ``fallback_uri`` so the caller hears something.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import tempfile
import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ivr.prompts import Digits, Prompt, Silence, SoundFile, Speak
from ivr.speech_text import digit_word, digits_to_words
from ivr.tts.engine import SOX_FORMAT, EspeakSynthesizer, SynthesisError, Synthesizer, to_telephone_wav
from ivr.tts.select import ESPEAK_VOICES, tts_from_env
from ivr.tts.text import MAX_TEXT_CHARS, cache_key, clean_text

log = logging.getLogger(__name__)

DEFAULT_VOICES: dict[str, str] = ESPEAK_VOICES
"""Without ``voices=``/``synthesizer=``: espeak-ng. ``PromptRenderer.from_env`` picks natural voices."""

MAX_SILENCE_FILE_S = 10  # Asterisk ships sounds/<lang>/silence/1 … silence/10
_FORMATTING = " -"  # skipped when reading digits back ("03-1234 5678")
_RETRY_FAILED_AFTER_S = 30.0
_VERSION_KEY = "<engine version>"


class PromptRenderer:
    def __init__(
        self,
        sounds_dir: Path,
        media_uri: Callable[[Path], str],
        *,
        voices: dict[str, str] | None = None,
        rate: int = 160,
        synthesizer: Synthesizer | None = None,
        fallback_uri: str = "sound:beep",
        max_concurrency: int = 2,
        sox: str = "sox",
    ) -> None:
        self._dir = sounds_dir
        self._media_uri = media_uri
        self._voices = {**DEFAULT_VOICES, **(voices or {})}
        self._rate = rate
        self._synth: Synthesizer = synthesizer or EspeakSynthesizer()
        self._fallback = fallback_uri
        self._slots = asyncio.Semaphore(max(1, max_concurrency))
        self._sox = sox
        self._inflight: dict[str, asyncio.Task[str | None]] = {}
        self._failed: dict[str, float] = {}  # cache key → monotonic time of the failure
        self._live = 0  # calls waiting for prompts now: the prewarm steps aside for them
        self._live_idle = asyncio.Event()
        self._live_idle.set()

    @classmethod
    def from_env(
        cls, sounds_dir: Path, media_uri: Callable[[Path], str], environ: Mapping[str, str] | None = None
    ) -> PromptRenderer:
        """A renderer with the voices ``IVR_TTS`` selects (``natural`` by default; see ``ivr.tts.select``)."""
        choice = tts_from_env(environ)
        return cls(sounds_dir, media_uri, voices=choice.voices, synthesizer=choice.synthesizer)

    async def aclose(self) -> None:
        """Stop the synthesizer's voice children, if it has any (they also end with this process)."""
        close = getattr(self._synth, "aclose", None)
        if close is not None:
            await close()

    async def uris(self, prompts: Sequence[Prompt]) -> list[str]:
        """Media URIs for ``prompts``, in order (a long silence may take several). Never raises."""
        self._live += 1
        self._live_idle.clear()
        try:
            parts = await asyncio.gather(*(self._uris_of(p) for p in prompts))
        finally:
            self._live -= 1
            if self._live == 0:
                self._live_idle.set()
        return [uri for part in parts for uri in part]

    async def prewarm(self, prompts: Sequence[Prompt]) -> None:
        """Synthesise and cache every speech prompt now, so the first caller doesn't wait — one prompt at
        a time, and only while no call is waiting for its own prompts: a voice serves one request at a
        time, so a caller waits for at most the one prewarm prompt in progress, not the whole list."""
        for prompt in prompts:
            await self._live_idle.wait()
            await self._uris_of(prompt)

    async def _uris_of(self, prompt: Prompt) -> list[str]:
        try:
            match prompt:
                case Speak(text=text, lang=lang):
                    return await self._speech(text, lang)
                case SoundFile(name=name):
                    return [f"sound:{name}"] if name.strip() else []
                case Silence(ms=ms):
                    return silence_uris(ms)
                case Digits(digits=digits, lang=lang):
                    return await self._digits(digits, lang)
        except Exception:
            log.exception("cannot render prompt %r; playing %s instead", prompt, self._fallback)
            return [self._fallback]
        log.error("unknown prompt type %r; playing %s instead", prompt, self._fallback)
        return [self._fallback]

    async def _digits(self, digits: str, lang: str) -> list[str]:
        # NFKC: full-width ４２７１ (typed by Japanese admins) is the same digits as 4271
        compact = "".join(ch for ch in unicodedata.normalize("NFKC", digits) if ch not in _FORMATTING)
        if not compact:
            return []
        if lang.split("-")[0] == "en" and compact.isascii() and compact.isdigit():
            return [f"digits:{compact}"]  # Asterisk's human-recorded digits
        if all(ch.isascii() and (ch.isdigit() or ch in "*#") for ch in compact):
            return await self._speech(digits_to_words(compact, lang), lang)
        separator = "、" if lang.split("-")[0] == "ja" else " "
        return await self._speech(separator.join(digit_word(ch, lang) for ch in compact), lang)

    async def _speech(self, raw_text: str, lang: str) -> list[str]:
        text = clean_text(raw_text)
        if not text:
            log.warning("nothing speakable in %r (lang %s); skipped", raw_text, lang)
            return []
        if len(text) > MAX_TEXT_CHARS:
            log.error("speech text of %d chars is over %d; playing %s",
                      len(text), MAX_TEXT_CHARS, self._fallback)  # fmt: skip
            return [self._fallback]
        voice = self._voices.get(lang) or self._voices.get(lang.split("-")[0])
        if voice is None:
            log.error("no TTS voice for language %r (known: %s); playing %s",
                      lang, ", ".join(sorted(self._voices)), self._fallback)  # fmt: skip
            return [self._fallback]
        if self._recently_failed(_VERSION_KEY):
            return [self._fallback]
        try:
            engine = await self._synth.version()
        except SynthesisError as exc:
            self._failure(_VERSION_KEY, str(exc))
            return [self._fallback]
        key = cache_key(text=text, lang=lang, voice=voice, rate=self._rate, engine=engine, fmt=SOX_FORMAT)
        if (self._dir / f"{key}.wav").is_file():  # a stat, so a cleaned cache is simply re-rendered
            return [self._media_uri(self._dir / key)]
        if self._recently_failed(key):
            return [self._fallback]
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._render(key, text, lang, voice))
            self._inflight[key] = task
            task.add_done_callback(self._forget)
        # shield: one caller hanging up must not cancel the synthesis others wait for
        path = await asyncio.shield(task)
        return [self._media_uri(Path(path))] if path is not None else [self._fallback]

    async def _render(self, key: str, text: str, lang: str, voice: str) -> str | None:
        """Synthesise, convert and atomically publish ``<key>.wav``; None (logged) on failure."""
        async with self._slots:
            started = time.monotonic()
            try:
                self._dir.mkdir(parents=True, exist_ok=True)
                # temp dir beside the cache: os.replace below is then an atomic same-filesystem rename
                with tempfile.TemporaryDirectory(prefix=".tts-", dir=self._dir) as tmp:
                    raw = Path(tmp) / "raw.wav"
                    phone = Path(tmp) / "phone.wav"
                    await self._synth.synthesize(text, voice, self._rate, raw)
                    await to_telephone_wav(raw, phone, sox=self._sox)
                    os.replace(phone, self._dir / f"{key}.wav")
            except (SynthesisError, OSError) as exc:
                self._failure(key, f"{exc} (voice {voice}, text {text[:60]!r})")
                return None
        log.info("synthesised %s (%s, %d chars) in %.2f s", key, lang, len(text), time.monotonic() - started)
        self._failed.pop(key, None)
        return str(self._dir / key)

    def _forget(self, task: asyncio.Task[str | None]) -> None:
        for key, running in list(self._inflight.items()):
            if running is task:
                del self._inflight[key]

    def _recently_failed(self, key: str) -> bool:
        failed_at = self._failed.get(key)
        return failed_at is not None and time.monotonic() - failed_at < _RETRY_FAILED_AFTER_S

    def _failure(self, key: str, reason: str) -> None:
        """Log one clear error per failing prompt; callers get the fallback for the next 30 s."""
        log.error("speech synthesis failed, callers hear %s instead: %s", self._fallback, reason)
        self._failed[key] = time.monotonic()


def silence_uris(ms: int) -> list[str]:
    """Asterisk's ``silence/N`` files (N = 1…10 s) covering ``ms``, rounded up to whole seconds."""
    seconds = math.ceil(ms / 1000) if ms > 0 else 0
    full, rest = divmod(seconds, MAX_SILENCE_FILE_S)
    return [f"sound:silence/{MAX_SILENCE_FILE_S}"] * full + ([f"sound:silence/{rest}"] if rest else [])
