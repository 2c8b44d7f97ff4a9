"""Reading Asterisk's ``Master.csv`` incrementally: where we stopped is kept in a small JSON file.

The position is the file's inode, the byte offset and a digest of the file's first bytes (up to 256),
so a file that was rotated (new inode) or truncated and written again (shorter, or a different head) is
read from the start again. Reading again is harmless: what is imported is keyed by the channel's
uniqueid.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ivr.calls.cdr import CdrChunk, parse_cdr

log = logging.getLogger(__name__)

HEAD_BYTES = 256


@dataclass(frozen=True)
class CdrPosition:
    path: str
    inode: int
    offset: int
    line: int
    head: str


class CdrTail:
    def __init__(self, path: Path, state_path: Path, *, max_bytes: int = 4 << 20) -> None:
        self.path = path
        self.state_path = state_path
        self.max_bytes = max_bytes
        self._read_to: CdrPosition | None = None  # read (and queued for the store) but not yet committed

    def read(self) -> tuple[CdrChunk, CdrPosition, bool] | None:
        """The complete rows written since the last position read (at most ``max_bytes``), the position
        after them and whether more may follow; None when the file does not exist or cannot be read.
        A new process starts from the last committed position."""
        try:
            with self.path.open("rb") as f:
                inode = os.fstat(f.fileno()).st_ino
                size = os.fstat(f.fileno()).st_size
                first = f.read(HEAD_BYTES)
                start = self._resume_at(inode, size, first)
                f.seek(start.offset)
                data = f.read(self.max_bytes)
        except OSError as exc:
            log.debug("CDR file %s not read: %s", self.path, exc)
            return None
        chunk = parse_cdr(data, first_line=start.line)
        lines = data[: chunk.consumed].count(b"\n")
        offset = start.offset + chunk.consumed
        position = CdrPosition(str(self.path), inode, offset, start.line + lines, _digest(first[:offset]))
        self._read_to = position
        return chunk, position, len(data) == self.max_bytes and chunk.consumed > 0

    def _resume_at(self, inode: int, size: int, first: bytes) -> CdrPosition:
        saved = self._read_to or self._saved()
        fresh = CdrPosition(str(self.path), inode, 0, 1, _digest(b""))
        if saved is None or saved.path != str(self.path) or saved.inode != inode:
            return fresh
        if saved.offset > size or saved.head != _digest(first[: saved.offset]):
            log.info("CDR file %s was truncated or replaced; reading it from the start", self.path)
            return fresh
        return saved

    def _saved(self) -> CdrPosition | None:
        try:
            raw = json.loads(self.state_path.read_text())
            return CdrPosition(
                path=str(raw["path"]),
                inode=int(raw["inode"]),
                offset=max(0, int(raw["offset"])),
                line=max(1, int(raw["line"])),
                head=str(raw["head"]),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def commit(self, position: CdrPosition) -> None:
        """Remember ``position`` (atomically: a crash leaves the old one or the new one)."""
        tmp = self.state_path.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(asdict(position)))
            tmp.replace(self.state_path)
        except OSError as exc:
            log.warning("CDR import position not saved (%s); rows will be read again", exc)
            with contextlib.suppress(OSError):
                tmp.unlink()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
