"""A prompt cache shared by ``bench.load`` runs: the controller synthesises its static prompts into a
fresh instance's ``sounds`` folder at every start, minutes of CPU on a busy box, before any call may be
placed. The files are named by a hash of (text, language, voice, rate, engine version), so a file from
an earlier run is exactly the file this run would render: the run starts with the cached files copied
in, and adds what it rendered to the cache afterwards."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

PATTERN = "*.wav"


def default_cache() -> Path:
    """``$XDG_CACHE_HOME/ivr-bench/prompts`` (``~/.cache/…`` without it)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ivr-bench" / "prompts"


def copy_new(source: Path, target: Path) -> int:
    """Copy the prompt files of ``source`` that ``target`` lacks (through a temporary name, so a reader
    never sees half a file); the number copied. A missing ``source`` copies nothing."""
    if not source.is_dir():
        return 0
    target.mkdir(parents=True, exist_ok=True)
    copied = 0
    for path in sorted(source.glob(PATTERN)):
        dest = target / path.name
        if dest.exists() or not path.is_file():
            continue
        partial = target / f".{path.name}.part"
        shutil.copyfile(path, partial)
        os.replace(partial, dest)
        copied += 1
    return copied
