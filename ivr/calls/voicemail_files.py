"""Files finished recordings (voicemail) out of Asterisk's spool into the site's recordings folder."""

from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)


class VoicemailFiler:
    def __init__(self, spool: Path, recordings_dir: Path) -> None:
        self.spool = spool
        self.recordings_dir = recordings_dir

    def target_for(self, name: str, when: datetime) -> Path:
        return self.recordings_dir / when.astimezone(UTC).strftime("%Y-%m-%d") / f"{name}.wav"

    async def file(self, name: str) -> Path | None:
        """Move ``<spool>/<name>.wav`` to ``<recordings>/<day>/<name>.wav``; None when it is not there."""
        source = self.spool / f"{name}.wav"
        target = self.target_for(name, datetime.now(UTC))
        try:
            await asyncio.to_thread(_move, source, target)
        except FileNotFoundError:
            log.warning("recording %s not found in %s", name, self.spool)
            return None
        except OSError as exc:
            log.error("recording %s could not be filed into %s: %s", name, target.parent, exc)
            return None
        log.info("recording filed: %s", target)
        return target


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))
