"""A prompt cache shared by test sessions and bench runs: the controller synthesises its static prompts
into a fresh instance's ``sounds`` folder at every start, minutes of CPU on a busy box, before any call
may be placed. The files are named by a hash of (text, language, voice, rate, engine version), so a file from
an earlier run is exactly the file this run would render: the run starts with the cached files copied
in, and adds what it rendered to the cache afterwards."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

PATTERN = "*.wav"


def default_cache() -> Path:
    """``$XDG_CACHE_HOME/ivr/prompts`` (``~/.cache/…`` without it)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ivr" / "prompts"


@contextlib.contextmanager
def exclusive(cache: Path) -> Iterator[Path]:
    """Hold the cache's lock: one controller at a time synthesises into it (parallel test workers would
    otherwise each render every prompt at the same time, on the same cores)."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield cache
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


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
