"""Engines per language and the bounded thread pool recognition runs in.

``build_engines(config)`` loads models (blocking: call it off the event loop). A language whose model
is missing gets one clear log line and no engine: its menus are DTMF only.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ivr.asr.config import SPHINX_LANGS, WHISPER_LANGS, AsrConfig
from ivr.asr.engines import Recognition, Recognizer
from ivr.asr.engines.faulty import FaultyEngine
from ivr.asr.engines.sphinx import SphinxEngine, SphinxUnavailable
from ivr.asr.engines.vosk_engine import VoskEngine, VoskUnavailable
from ivr.asr.engines.whisper import WhisperEngine, WhisperUnavailable
from ivr.asr.whisper_model import default_model_dir

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 10.0
"""Per-utterance recognition timeout (``IVR_ASR_TIMEOUT_S``): a decode takes ≈0.3–1 s here."""
WARM_UP_WAIT_S = 300.0


def build_engines(config: AsrConfig) -> dict[str, Recognizer]:
    """One engine per language that has a usable model, and one log line per language.

    A configured Vosk model takes its language whatever the engine; then Whisper (English, Japanese)
    unless ``IVR_ASR_ENGINE`` says otherwise or its model is missing; then PocketSphinx for English.
    """
    if not config.enabled:
        log.info("speech recognition is off (IVR_ASR=off): all menus take DTMF only")
        return {}
    if config.test_faults:
        faulty = FaultyEngine(config.test_faults)
        log.warning(
            "speech: TEST engine that fails (%s) for en and ja (IVR_ASR_TEST_FAULT)", ",".join(faulty.faults)
        )
        return {"en": faulty, "ja": faulty}
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


class RecognitionFailed(Exception):
    """A recognition gave no usable answer: the engine raised (``reason="error"``) or ran over the
    per-utterance timeout (``reason="timeout"``). The message is one line for the log; the caller's
    node falls back to keys."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class _Job:
    """One utterance for a worker. ``lock`` makes "a worker takes it" and "the caller gives up on it"
    exclusive: an abandoned job is never started, a started one names its worker."""

    __slots__ = ("abandoned", "engine", "future", "lang", "lock", "loop", "samples", "words", "worker")

    def __init__(
        self,
        engine: Recognizer,
        samples: npt.NDArray[np.int16],
        words: tuple[str, ...],
        lang: str,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.engine = engine
        self.samples = samples
        self.words = words
        self.lang = lang
        self.loop = loop
        self.future: asyncio.Future[Recognition | None] = loop.create_future()
        self.lock = threading.Lock()
        self.abandoned = False
        self.worker: _Worker | None = None

    def settle(self, result: Recognition | None, error: BaseException | None) -> None:
        """In the event loop: hand the outcome to the waiting caller (if it still waits: a timed-out or
        cancelled wait has cancelled the future)."""
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result)


class _Worker(threading.Thread):
    """A recogniser thread. Daemon: a hung decoder never keeps the process from exiting. A worker
    ``written_off`` (its recognition ran over the timeout) leaves the pool once that recognition returns,
    if it ever does; the pool has already started a replacement."""

    def __init__(self, pool: RecognizerPool, number: int) -> None:
        super().__init__(name=f"asr-{number}", daemon=True)
        self._pool = pool
        self.written_off = False
        self.ready = threading.Event()
        """Set once the thread has warmed up the engines."""

    def run(self) -> None:
        self._pool._thread_init()
        self.ready.set()
        jobs = self._pool._jobs
        while True:
            job = jobs.get()
            if job is None:  # the pool is closing
                return
            with job.lock:
                if job.abandoned:
                    continue
                job.worker = self
            result: Recognition | None = None
            error: BaseException | None = None
            try:
                result = job.engine.recognize(job.samples, job.words, job.lang)
            except Exception as exc:  # the engine's failure is this utterance's, never the worker's
                error = exc
            try:
                job.loop.call_soon_threadsafe(job.settle, result, error)
            except RuntimeError:  # the event loop is closed: nobody waits any more
                return
            if self.written_off:
                self._pool._worker_left(self)
                return


class RecognizerPool:
    """Runs recognitions in ``workers`` threads of its own; the event loop never blocks on a decoder.

    Faults stay with the utterance: an engine that raises, or one that runs over ``timeout_s``, makes
    ``recognize`` raise :class:`RecognitionFailed` (the caller's node falls back to keys). A worker whose
    recognition ran over the timeout is written off (a thread cannot be killed: it leaves the pool if
    its call ever returns) and a fresh thread takes its place at once, so the pool keeps its capacity.
    At most ``max_hung`` written-off threads may be alive: beyond that no more are started (logged once)
    and recognitions queue until they time out — speech degrades to keys, the controller does not grow
    threads without bound.
    """

    def __init__(
        self,
        engines: Mapping[str, Recognizer],
        *,
        workers: int = 2,
        max_pending: int = 0,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_hung: int = 0,
    ) -> None:
        self._engines = dict(engines)
        self._distinct = list({id(e): e for e in self._engines.values()}.values())
        self._workers = workers
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._live: list[_Worker] = []
        self._hung: set[_Worker] = set()
        self._started = 0
        self._closed = False
        self._warned_hung_limit = False
        self._pending = 0
        self.timeout_s = timeout_s
        self.max_hung = max_hung or workers * 4
        self.max_pending = max_pending or workers * 8
        self.dropped = 0
        """Utterances dropped because too many were pending."""
        self.errors = 0
        """Recognitions whose engine raised."""
        self.timeouts = 0
        """Recognitions that ran over ``timeout_s``."""
        self.replaced = 0
        """Worker threads started to replace written-off (hung) ones."""

    def _thread_init(self) -> None:
        for engine in self._distinct:
            try:
                engine.warm_up()
            except Exception:
                log.exception("speech: engine warm-up failed in a worker thread")

    def _ensure_workers(self) -> None:
        with self._lock:
            self._fill()

    def _fill(self) -> None:
        """Start workers up to ``workers``, hung ones counting against ``max_hung`` (lock held)."""
        while (
            not self._closed
            and len(self._live) < self._workers
            and len(self._live) + len(self._hung) < self._workers + self.max_hung
        ):
            self._start_worker()

    def _start_worker(self) -> _Worker:
        """A new worker thread (with ``self._lock`` held)."""
        self._started += 1
        worker = _Worker(self, self._started)
        self._live.append(worker)
        worker.start()
        return worker

    def _worker_left(self, worker: _Worker) -> None:
        """A written-off worker's recognition returned at last: it leaves, room for a fresh one."""
        with self._lock:
            self._hung.discard(worker)
            self._fill()

    def warm_up(self) -> None:
        """Start every worker thread now and wait until each has prepared its decoders (blocking: call
        it off the event loop), instead of on the first call."""
        self._ensure_workers()
        with self._lock:
            live = list(self._live)
        for worker in live:
            worker.ready.wait(WARM_UP_WAIT_S)

    @property
    def pending(self) -> int:
        """Recognitions submitted and not finished yet (running or waiting for a worker)."""
        return self._pending

    @property
    def workers(self) -> int:
        return self._workers

    @property
    def hung(self) -> int:
        """Written-off worker threads still stuck in a recognition."""
        with self._lock:
            return len(self._hung)

    def supports(self, lang: str) -> bool:
        return lang in self._engines

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._engines))

    async def recognize(
        self, lang: str, samples16k: npt.NDArray[np.int16], words: Sequence[str]
    ) -> Recognition | None:
        """The engine's answer: ``(text, confidence)``, or None (nothing heard, no engine, pool full).

        Raises :class:`RecognitionFailed` when the engine raised or ran over ``timeout_s``."""
        engine = self._engines.get(lang)
        if engine is None or not words:
            return None
        if self._pending >= self.max_pending:
            self.dropped += 1
            log.warning("speech: %d recognitions pending; utterance dropped", self._pending)
            return None
        self._ensure_workers()
        job = _Job(engine, samples16k, tuple(words), lang, asyncio.get_running_loop())
        self._pending += 1
        try:
            self._jobs.put(job)
            try:
                return await asyncio.wait_for(job.future, self.timeout_s)
            except TimeoutError:
                raise self._timed_out(job) from None
            except asyncio.CancelledError:  # the call went away: a worker must not start this one
                with job.lock:
                    job.abandoned = True
                raise
            except Exception as exc:
                self.errors += 1
                raise RecognitionFailed("error", f"recogniser ({lang}) failed: {_where(exc)}") from exc
        finally:
            self._pending -= 1

    def _timed_out(self, job: _Job) -> RecognitionFailed:
        self.timeouts += 1
        with job.lock:
            job.abandoned = True
            worker = job.worker
        what = f"recogniser ({job.lang}) gave no result within {self.timeout_s:g} s"
        if worker is None:  # still waiting for a worker: every worker is busy (or hung)
            return RecognitionFailed("timeout", f"{what} (no free worker)")
        with self._lock:
            if worker.written_off or worker not in self._live:
                return RecognitionFailed("timeout", what)
            worker.written_off = True
            self._live.remove(worker)
            self._hung.add(worker)
            if self._closed:
                return RecognitionFailed("timeout", f"{what}; worker {worker.name} written off")
            if len(self._live) + len(self._hung) >= self._workers + self.max_hung:
                if not self._warned_hung_limit:
                    self._warned_hung_limit = True
                    log.error(
                        "speech: %d recogniser threads are hung; no more are started — spoken input "
                        "degrades to keys until they return or the controller restarts",
                        len(self._hung),
                    )
                return RecognitionFailed("timeout", f"{what}; worker {worker.name} written off, not replaced")
            fresh = self._start_worker()
            self.replaced += 1
        return RecognitionFailed("timeout", f"{what}; worker {worker.name} written off, {fresh.name} started")

    def close(self) -> None:
        """Stop the workers once their current recognition ends (hung ones are daemon threads)."""
        with self._lock:
            self._closed = True
            live = len(self._live)
        for _ in range(live):
            self._jobs.put(None)


def _where(exc: BaseException) -> str:
    """``Type: message (at file:line)`` — one line for the log, where the engine failed."""
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    frames = traceback.extract_tb(exc.__traceback__)
    at = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {text}{at}" if text else f"{type(exc).__name__}{at}"
