"""Live flows with hot reload: new calls get a changed file within ~2 s; a broken edit keeps the
previous version live and is reported by ``errors()``. Calls keep the ``Flow`` object they started with."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from ivr.flows.loader import flow_files, link, load_file
from ivr.flows.model import Flow, FlowError

log = logging.getLogger(__name__)


class UnknownFlow(KeyError):
    pass


class FlowRegistry:
    def __init__(self, dirs: Sequence[Path], *, default_flow: str = "shop") -> None:
        self.dirs = [Path(d) for d in dirs]
        self.default_flow = default_flow
        self._hashes: dict[Path, str] = {}
        self._good: dict[Path, Flow] = {}  # last valid version per file
        self._errors: dict[Path, list[FlowError]] = {}
        self._link_errors: list[FlowError] = []
        self._flows: dict[str, Flow] = {}
        self.reload()

    # --- reading ---
    def get(self, name: str) -> Flow:
        try:
            return self._flows[name]
        except KeyError:
            raise UnknownFlow(name) from None

    def names(self) -> list[str]:
        return sorted(self._flows)

    def for_number(self, dialed: str) -> Flow:
        """The flow bound to ``dialed`` (``numbers:``), else the default flow."""
        for flow in self._flows.values():
            if dialed in flow.numbers:
                return flow
        return self.get(self.default_flow)

    def errors(self) -> list[FlowError]:
        out = [e for errs in self._errors.values() for e in errs]
        return out + self._link_errors

    def describe(self) -> list[dict[str, object]]:
        """For the API: loaded flows."""
        return [
            {
                "name": f.name,
                "file": str(f.file),
                "version": f.version,
                "numbers": list(f.numbers),
                "languages": list(f.languages),
                "nodes": len(f.nodes),
            }
            for f in sorted(self._flows.values(), key=lambda f: f.name)
        ]

    # --- reloading ---
    def reload(self) -> bool:
        """Re-read changed files. Returns True when anything changed."""
        files = flow_files([d for d in self.dirs if d.exists()])
        changed = False
        for gone in set(self._hashes) - set(files):
            self._hashes.pop(gone, None)
            self._good.pop(gone, None)
            self._errors.pop(gone, None)
            changed = True
        for path in files:
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError:
                continue
            if self._hashes.get(path) == digest:
                continue
            self._hashes[path] = digest
            changed = True
            flow, errors = load_file(path)
            if flow is None:
                self._errors[path] = errors
                for e in errors:
                    log.error("flow rejected, previous version stays live: %s", e)
            else:
                self._errors.pop(path, None)
                self._good[path] = flow
                log.info("flow %s loaded from %s (version %s)", flow.name, path, flow.version)
        if changed:
            by_name: dict[str, Flow] = {}
            for path in files:  # later directories (site) override earlier ones (shipped)
                if path in self._good:
                    by_name[self._good[path].name] = self._good[path]
            self._flows, self._link_errors = link(by_name)
            for e in self._link_errors:
                log.error("flow problem: %s", e)
        return changed

    async def watch(self, interval: float = 0.5) -> None:
        """Poll for changes forever (cancel the task to stop)."""
        while True:
            await asyncio.sleep(interval)
            try:
                self.reload()  # small files; in the loop so readers never see a half-updated registry
            except Exception:
                log.exception("flow reload failed; previous versions stay live")
