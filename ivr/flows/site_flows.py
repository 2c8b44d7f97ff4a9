"""Publishing a flow's YAML into the site flows directory, through the registry's hot-reload path.

``SiteFlows(registry, site_dir)``: a publish checks the text first (``check_source``: nothing is
written when it has an error), writes ``<site_dir>/<name>.yaml`` atomically, has the registry reload,
and confirms the registry made exactly that version live. If the registry holds it back (an error only
visible among all the flows), the previous file comes back and the publish is refused.

A site file overrides a shipped flow of the same name (the registry links later directories over
earlier ones), so publishing a shipped flow writes its site copy; deleting that file brings the shipped
one back. Runs in the event loop like the registry's own watcher, so the two never interleave.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ivr.flows.model import Flow, FlowError
from ivr.flows.registry import FlowRegistry, UnknownFlow
from ivr.flows.source_check import FLOW_NAME, SourceCheck, check_source

Origin = Literal["shipped", "site"]


class PublishRefused(Exception):
    """The text was not published: ``kind`` is ``invalid`` (its own errors), ``link`` (the registry
    held it back: it does not fit with the other flows) or ``io`` (the file could not be written)."""

    def __init__(self, kind: Literal["invalid", "link", "io"], errors: list[FlowError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.kind = kind
        self.errors = errors


@dataclass(frozen=True)
class FlowSource:
    name: str
    file: Path
    origin: Origin
    text: str
    live: Flow | None
    """The version calls get now (None when no version of the flow loads)."""
    overrides: Path | None
    """For a site file: the shipped file of the same name it replaces."""
    errors: list[FlowError]
    """Why the file's newest text is not live (the registry's errors for this file)."""


@dataclass(frozen=True)
class Published:
    flow: Flow
    file: Path
    text: str
    """What was written (line ends as LF)."""
    previous: bytes | None
    """The file's content before (None: it did not exist), for ``undo``."""


class SiteFlows:
    def __init__(self, registry: FlowRegistry, site_dir: Path) -> None:
        matches = [d for d in registry.dirs if d.resolve() == Path(site_dir).resolve()]
        if not matches:
            raise ValueError(f"{site_dir} is not one of the registry's flow directories")
        self.registry = registry
        self.site_dir = matches[-1]  # the registry's own spelling: its errors name files through it

    def site_file(self, name: str) -> Path:
        """Where a publish of ``name`` writes: the site file that holds the flow now, else
        ``<site_dir>/<name>.yaml``."""
        _check_name(name)
        live = self._live(name)
        if live is not None and live.file.parent == self.site_dir:
            return live.file
        return self.site_dir / f"{name}.yaml"

    def source(self, name: str) -> FlowSource | None:
        """The file behind flow ``name`` (its site file when there is one), or None."""
        if not FLOW_NAME.match(name):
            return None
        live = self._live(name)
        site = self.site_file(name)
        file = site if site.is_file() else (live.file if live is not None else None)
        if file is None:
            return None
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        origin: Origin = "site" if file.parent == self.site_dir else "shipped"
        overrides = None
        if origin == "site":
            shipped = [d / f"{name}.yaml" for d in self.registry.dirs if d != self.site_dir]
            overrides = next((p for p in shipped if p.is_file()), None)
        errors = [e for e in self.registry.errors() if e.file == str(file)]
        return FlowSource(name, file, origin, text, live, overrides, errors)

    def check(self, name: str, text: str) -> SourceCheck:
        """``check_source`` against the registry's environment and live flows, as ``site_file(name)``."""
        _check_name(name)
        live = {n: self.registry.get(n) for n in self.registry.names()}
        return check_source(
            _lf(text),
            self.site_file(name),
            name=name,
            queues=self.registry.queues,
            departments=self.registry.departments,
            live=live,
        )

    def publish(self, name: str, text: str) -> Published:
        """Write ``text`` as flow ``name`` and have the registry take it; raises ``PublishRefused``."""
        text = _lf(text)
        checked = self.check(name, text)
        if checked.flow is None:
            raise PublishRefused("invalid", checked.errors)
        path = self.site_file(name)
        try:
            previous = path.read_bytes() if path.exists() else None
            _write_atomic(path, text.encode("utf-8"))
        except OSError as exc:
            raise PublishRefused("io", [FlowError(str(path), 1, 1, "", f"cannot write: {exc}")]) from exc
        self.registry.reload()
        live = self._live(name)
        if live is None or live.file != path or live.version != checked.flow.version:
            errors = [e for e in self.registry.errors() if e.file == str(path)]
            self.undo(Published(checked.flow, path, text, previous))
            raise PublishRefused("link", errors or [_not_live(path)])
        return Published(live, path, text, previous)

    def undo(self, published: Published) -> None:
        """Put the file back as it was before ``published`` and reload."""
        path = published.file
        if published.previous is None:
            path.unlink(missing_ok=True)
        else:
            _write_atomic(path, published.previous)
        self.registry.reload()

    def _live(self, name: str) -> Flow | None:
        try:
            return self.registry.get(name)
        except UnknownFlow:
            return None


def _check_name(name: str) -> None:
    if not FLOW_NAME.match(name):
        raise ValueError(f"'{name}' is not a flow name (letters, digits, _ and -)")


def _lf(text: str) -> str:
    """Line ends as the registry reads files back (universal newlines), so versions hash the same."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _not_live(path: Path) -> FlowError:
    return FlowError(str(path), 1, 1, "", "the flow registry did not make this version live")


def _write_atomic(path: Path, data: bytes) -> None:
    """Write a temporary file beside ``path`` (not a .yaml: the watcher ignores it) and rename it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
