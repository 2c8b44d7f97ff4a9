"""Engines per language and the bounded thread pool recognition runs in.

``build_engines(config)`` loads models (blocking: call it off the event loop). A language whose model
is missing gets one clear log line and no engine: its menus are DTMF only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from ivr.asr.config import SPHINX_LANGS, WHISPER_LANGS, AsrConfig
from ivr.asr.engines import Recognition, Recognizer
from ivr.asr.engines.sphinx import SphinxEngine, SphinxUnavailable
from ivr.asr.engines.vosk_engine import VoskEngine, VoskUnavailable
from ivr.asr.engines.whisper import WhisperEngine, WhisperUnavailable
from ivr.asr.whisper_model import default_model_dir

log = logging.getLogger(__name__)


def build_engines(config: AsrConfig) -> dict[str, Recognizer]:
    """One engine per language that has a usable model, and one log line per language.

    A configured Vosk model takes its language whatever the engine; then Whisper (English, Japanese)
    unless ``IVR_ASR_ENGINE`` says otherwise or its model is missing; then PocketSphinx for English.
    """
    if not config.enabled:
        log.info("speech recognition is off (IVR_ASR=off): all menus take DTMF only")
        return {}
    engines: dict[str, Recognizer] = {}
    failed: set[str] = set()  # languages whose engine failed to load (already logged)
    for lang, model_dir in sorted(config.vosk_models.items()):
        try:
            engines[lang] = VoskEngine(model_dir)
            log.info("speech (%s): Vosk model %s", lang, model_dir)
        except VoskUnavailable as exc:
            log.error("speech (%s): %s — spoken input is off for %s, DTMF only", lang, exc, lang)
    open_langs = [lang for lang in (*WHISPER_LANGS, *SPHINX_LANGS) if lang not in config.vosk_models]
    whisper_note = ""
    if config.engine in (None, "whisper") and any(lang in open_langs for lang in WHISPER_LANGS):
        whisper, whisper_note = _whisper(config)
        if whisper is not None:
            for lang in WHISPER_LANGS:
                if lang in open_langs:
                    engines[lang] = whisper
                    log.info("speech (%s): Whisper %s (faster-whisper, int8)", lang, whisper.model_dir)
    if config.sphinx and config.engine != "vosk":
        sphinx: SphinxEngine | None = None
        for lang in SPHINX_LANGS:
            if lang in engines or lang not in open_langs:
                continue
            try:
                sphinx = sphinx or SphinxEngine()
            except SphinxUnavailable as exc:
                failed.add(lang)
                log.error(
                    "speech (%s): %s%s — spoken input is off for %s, DTMF only", lang, exc, whisper_note, lang
                )
                break
            engines[lang] = sphinx
            log.info("speech (%s): PocketSphinx en-us (16 kHz model)%s", lang, whisper_note)
    for lang in config.expected_langs:
        if lang not in engines and lang not in config.vosk_models and lang not in failed:
            log.warning(
                "speech (%s): no model%s (run `ivr asr assemble` for Whisper, or set IVR_VOSK_MODEL_%s to a "
                "Vosk model directory) — spoken input is off for %s, DTMF only",
                lang,
                whisper_note,
                lang.upper(),
                lang,
            )
    return engines


def _whisper(config: AsrConfig) -> tuple[WhisperEngine | None, str]:
    """The Whisper engine, or None and why (a note for the languages' log lines). A missing default
    model is expected when the engine is not chosen explicitly; an explicit choice that fails is an error."""
    model_dir = config.whisper_model
    if model_dir is None:
        if config.engine != "whisper":
            return None, ""
        model_dir = default_model_dir()
    try:
        return WhisperEngine(model_dir, workers=config.workers), ""
    except WhisperUnavailable as exc:
        if config.engine == "whisper":
            log.error("speech: IVR_ASR_ENGINE=whisper but %s", exc)
        return None, f" — Whisper not used: {exc}"


class RecognizerPool:
    """Runs recognitions in at most ``workers`` threads; the event loop never blocks on a decoder."""

    def __init__(self, engines: Mapping[str, Recognizer], *, workers: int = 2, max_pending: int = 0) -> None:
        self._engines = dict(engines)
        self._distinct = list({id(e): e for e in self._engines.values()}.values())
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="asr", initializer=self._thread_init
        )
        self._workers = workers
        self._pending = 0
        self.max_pending = max_pending or workers * 8
        self.dropped = 0

    def _thread_init(self) -> None:
        for engine in self._distinct:
            try:
                engine.warm_up()
            except Exception:
                log.exception("speech: engine warm-up failed in a worker thread")

    def warm_up(self) -> None:
        """Start every worker thread now (each prepares its decoders) instead of on the first call."""
        futures = [self._executor.submit(lambda: None) for _ in range(self._workers)]
        concurrent.futures.wait(futures)

    @property
    def pending(self) -> int:
        """Recognitions submitted and not finished yet (running or waiting for a worker)."""
        return self._pending

    @property
    def workers(self) -> int:
        return self._workers

    def supports(self, lang: str) -> bool:
        return lang in self._engines

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._engines))

    async def recognize(
        self, lang: str, samples16k: npt.NDArray[np.int16], words: Sequence[str]
    ) -> Recognition | None:
        engine = self._engines.get(lang)
        if engine is None or not words:
            return None
        if self._pending >= self.max_pending:
            self.dropped += 1
            log.warning("speech: %d recognitions pending; utterance dropped", self._pending)
            return None
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            call = engine.recognize
            return await loop.run_in_executor(self._executor, call, samples16k, tuple(words), lang)
        finally:
            self._pending -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
