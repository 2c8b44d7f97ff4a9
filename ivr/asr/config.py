"""Speech settings from the environment (``IVR_ASR*``, ``IVR_WHISPER_MODEL``, ``IVR_VOSK_MODEL_<LANG>``).

- ``IVR_ASR``: ``on`` (default) or ``off`` (every menu is DTMF only).
- ``IVR_ASR_WORKERS``: recognition threads (default 2); recognition never runs on the event loop.
- ``IVR_ASR_ENGINE``: ``auto`` (default, see ``DEFAULT_ENGINE``: Whisper when its model is there —
  ``ivr asr assemble`` — else PocketSphinx for English), ``whisper``, ``sphinx`` or ``vosk``.
- ``IVR_WHISPER_MODEL``: a CTranslate2 Whisper model directory (default: the assembled Whisper base,
  ``<sys.prefix>/share/ivr/whisper-base``); Whisper serves English and Japanese.
- ``IVR_VOSK_MODEL_<LANG>`` (``IVR_VOSK_MODEL_JA``, ``IVR_VOSK_MODEL_EN``, …): a Vosk model directory
  for that language; it takes that language whatever the engine. Nothing is ever downloaded.
- PocketSphinx's bundled en-us model is the English fallback (``IVR_ASR_SPHINX=off`` to disable). A
  language with no engine is DTMF only.
- ``IVR_ASR_TIMEOUT_S``: seconds one utterance may take to recognise (default 10); over it the caller's
  node falls back to keys and the hung worker thread is replaced (see ``ivr.asr.pool``).
- ``IVR_ASR_TEST_FAULT`` (tests only, honoured only with ``IVR_TESTING=1``): ``raise`` or ``hang`` (or
  a comma list used in turn, ``raise,hang``) replaces every engine by a misbehaving stand-in
  (``ivr.asr.engines.faulty``) for English and Japanese, so fault tests need no model. Set without
  ``IVR_TESTING=1`` it stops the start with an error.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ivr.asr.whisper_model import model_dir

VOSK_PREFIX = "IVR_VOSK_MODEL_"
SPHINX_LANGS = ("en",)
WHISPER_LANGS = ("en", "ja")
ENGINES = ("whisper", "sphinx", "vosk")
DEFAULT_ENGINE = "auto"
"""Whisper for English and Japanese whenever its model is assembled, PocketSphinx for English otherwise.
With the encoder over a 10 s window instead of 30 s (:mod:`ivr.asr.engines.whisper_decode`) Whisper base
decides a menu word in ≈0.3 s and a digit string in ≈0.4 s (p95 0.34 s / 0.52 s on this 2-core box;
``python -m bench.speech``), within the goals of 0.5 s and 1 s."""
DEFAULT_TIMEOUT_S = 10.0
"""A decode takes ≈0.3–1 s on this box; ten times that is a hung engine, not a slow one."""
TEST_FAULTS = ("raise", "hang")
EXPECTED_LANGS = ("ja", "en")  # languages the shipped flows speak: reported at start when unsupported


class AsrConfigError(ValueError):
    """A speech setting has a value the system cannot use."""


@dataclass(frozen=True)
class AsrConfig:
    enabled: bool = True
    workers: int = 2
    sphinx: bool = True
    vosk_models: Mapping[str, Path] = field(default_factory=dict)  # lang -> model directory
    expected_langs: tuple[str, ...] = EXPECTED_LANGS
    engine: str | None = None  # None: Whisper when its model exists, else PocketSphinx (English)
    whisper_model: Path | None = None  # None: no Whisper unless engine == "whisper" (then the default dir)
    timeout_s: float = DEFAULT_TIMEOUT_S
    test_faults: tuple[str, ...] = ()  # IVR_ASR_TEST_FAULT (tests only): misbehaving stand-in engines

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AsrConfig:
        env = os.environ if environ is None else environ
        enabled = _switch(env, "IVR_ASR", True)
        sphinx = _switch(env, "IVR_ASR_SPHINX", True)
        raw_workers = env.get("IVR_ASR_WORKERS", "") or "2"
        try:
            workers = int(raw_workers)
        except ValueError as exc:
            raise AsrConfigError(f"IVR_ASR_WORKERS={raw_workers!r} is not a whole number") from exc
        if not 1 <= workers <= 64:
            raise AsrConfigError(f"IVR_ASR_WORKERS={workers}: use 1..64")
        raw_engine = (env.get("IVR_ASR_ENGINE") or "").strip().lower() or DEFAULT_ENGINE
        if raw_engine not in (*ENGINES, "auto"):
            raise AsrConfigError(f"IVR_ASR_ENGINE={raw_engine!r}: use auto, {', '.join(ENGINES)}")
        engine = None if raw_engine == "auto" else raw_engine
        models = {
            name[len(VOSK_PREFIX) :].lower(): Path(value)
            for name, value in env.items()
            if name.startswith(VOSK_PREFIX) and value and len(name) > len(VOSK_PREFIX)
        }
        return cls(
            enabled=enabled,
            workers=workers,
            sphinx=sphinx,
            vosk_models=models,
            engine=engine,
            whisper_model=model_dir(env),
            timeout_s=_timeout(env),
            test_faults=_test_faults(env),
        )


def _timeout(env: Mapping[str, str]) -> float:
    raw = (env.get("IVR_ASR_TIMEOUT_S") or "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError as exc:
        raise AsrConfigError(f"IVR_ASR_TIMEOUT_S={raw!r} is not a number of seconds") from exc
    if not 0.1 <= value <= 600:
        raise AsrConfigError(f"IVR_ASR_TIMEOUT_S={raw}: use 0.1..600 seconds")
    return value


def _test_faults(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = (env.get("IVR_ASR_TEST_FAULT") or "").strip().lower()
    if not raw:
        return ()
    if not _switch(env, "IVR_TESTING", False):
        raise AsrConfigError(
            "IVR_ASR_TEST_FAULT is for tests only: unset it (or set IVR_TESTING=1 in a test)"
        )
    faults = tuple(part.strip() for part in raw.split(","))
    bad = [f for f in faults if f not in TEST_FAULTS]
    if bad:
        raise AsrConfigError(
            f"IVR_ASR_TEST_FAULT={raw!r}: use {' or '.join(TEST_FAULTS)}, or a comma list of them"
        )
    return faults


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "on", "true", "yes"):
        return True
    if raw in ("0", "off", "false", "no"):
        return False
    raise AsrConfigError(f"{name}={raw!r}: use on or off")
