"""Speech settings, read from the environment (``IVR_ASR*``, ``IVR_VOSK_MODEL_<LANG>``).

- ``IVR_ASR``: ``on`` (default) or ``off`` (every menu is DTMF only).
- ``IVR_ASR_WORKERS``: recognition threads (default 2); recognition never runs on the event loop.
- ``IVR_VOSK_MODEL_<LANG>`` (``IVR_VOSK_MODEL_JA``, ``IVR_VOSK_MODEL_EN``, …): a Vosk model directory
  for that language. Nothing is ever downloaded.
- English without a Vosk model uses PocketSphinx's bundled en-us model (``IVR_ASR_SPHINX=off`` to
  disable). A language with neither is DTMF only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

VOSK_PREFIX = "IVR_VOSK_MODEL_"
SPHINX_LANGS = ("en",)
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
        models = {
            name[len(VOSK_PREFIX) :].lower(): Path(value)
            for name, value in env.items()
            if name.startswith(VOSK_PREFIX) and value and len(name) > len(VOSK_PREFIX)
        }
        return cls(enabled=enabled, workers=workers, sphinx=sphinx, vosk_models=models)


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "on", "true", "yes"):
        return True
    if raw in ("0", "off", "false", "no"):
        return False
    raise AsrConfigError(f"{name}={raw!r}: use on or off")
