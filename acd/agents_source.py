"""The agents file on disk: where the controller's editable copy lives, and the checked, atomic
rewrite an edit from the web goes through.

A site that sets ``IVR_AGENTS_FILE`` edits its own file. Without it the shipped demo agents are copied
once to the data directory (``<data_dir>/agents.yaml``) and that copy is used from then on: the
package's own files are never written. (The queues are not edited from the web; without
``IVR_QUEUES_FILE`` the shipped queues file is read in place, so its updates still arrive.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


def seeded(configured: Path | None, shipped: Path, copy: Path) -> Path:
    """``configured`` when set; else ``copy``, made from ``shipped`` if it does not exist yet."""
    if configured is not None:
        return configured
    if not copy.exists():
        copy.parent.mkdir(parents=True, exist_ok=True)
        tmp = copy.with_name(f".{copy.name}.seed-{os.getpid()}.tmp")
        shutil.copyfile(shipped, tmp)
        os.replace(tmp, copy)
        log.info("ACD: the shipped %s copied to %s (edits go there)", shipped.name, copy)
    return copy


def replace_checked(path: Path, text: str, check: Callable[[Path], list[str]]) -> list[str]:
    """Write ``text`` over ``path`` atomically if ``check`` (the loader, run on a temporary file beside
    it) finds no error; else leave ``path`` untouched. Returns the errors, naming ``path``, not the
    temporary file."""
    tmp = path.with_name(f".{path.name}.edit-{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        with contextlib.suppress(OSError):
            shutil.copymode(path, tmp)
        errors = [e.replace(str(tmp), str(path)) for e in check(tmp)]
        if errors:
            return errors
        os.replace(tmp, path)
        return []
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
