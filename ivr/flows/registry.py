"""Live flows with hot reload: new calls get a changed file within ~2 s; a broken edit keeps the
previous version live and is reported by ``errors()``. Calls keep the ``Flow`` object they started with.

An edit is broken when its file does not load, and also when it only breaks with the other flows at
hand (link time): an unknown subflow, a number another flow already has, a rename that leaves another
flow's subflow dangling. Such a version is held back (not live) and retried whenever any file changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from ivr.flows.link import link
from ivr.flows.loader import DEFAULT_DEPARTMENTS, DEFAULT_QUEUES, flow_files, load_file
from ivr.flows.model import Flow, FlowError

log = logging.getLogger(__name__)


class UnknownFlow(KeyError):
    pass


class FlowRegistry:
    def __init__(
        self,
        dirs: Sequence[Path],
        *,
        default_flow: str = "shop",
        queues: frozenset[str] = DEFAULT_QUEUES,
        departments: Mapping[str, str] = DEFAULT_DEPARTMENTS,
    ) -> None:
        self.dirs = [Path(d) for d in dirs]
        self.default_flow = default_flow
        self.queues = queues
        self.departments = departments
        self._hashes: dict[Path, str] = {}
        self._good: dict[Path, Flow] = {}  # the live version per file
        self._held: dict[Path, Flow] = {}  # newer versions that load but do not link (not live)
        self._errors: dict[Path, list[FlowError]] = {}  # why a file's newest version is not live
        self._link_errors: list[FlowError] = []  # problems among the live flows themselves
        self._flows: dict[str, Flow] = {}
        self.on_reloaded: list[Callable[[], None]] = []
        """Told after a reload changed the live flows (the wiring re-synthesises their new prompts)."""
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
    def set_environment(self, queues: frozenset[str], departments: Mapping[str, str]) -> bool:
        """The site's queues or departments changed (the ACD's files were reloaded): check every flow
        again against them. A flow the change breaks keeps its live version and is reported."""
        if queues == self.queues and dict(departments) == dict(self.departments):
            return False
        self.queues, self.departments = queues, dict(departments)
        self._hashes.clear()  # every file is read and checked again
        return self.reload()

    def reload(self) -> bool:
        """Re-read changed files. Returns True when anything changed."""
        files = flow_files([d for d in self.dirs if d.exists()])
        changed = False
        for gone in set(self._hashes) - set(files):
            self._hashes.pop(gone, None)
            self._good.pop(gone, None)
            self._held.pop(gone, None)
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
            flow, errors = load_file(path, queues=self.queues, departments=self.departments)
            if flow is None:
                self._held.pop(path, None)
                self._errors[path] = errors
                for e in errors:
                    log.error("flow rejected, previous version stays live: %s", e)
            else:
                self._held[path] = flow
        if changed:
            self._admit(files)
            for hook in self.on_reloaded:
                hook()
        return changed

    def _admit(self, files: list[Path]) -> None:
        """Make held versions live when linking them adds no error; the others stay held and reported."""
        live = dict(self._good)
        baseline = _keys(_link(files, live)[1])
        pending = dict(self._held)
        _, errors = _link(files, {**live, **pending}, last=list(pending))
        if not [e for e in errors if _key(e) not in baseline]:  # the usual case: everything links
            live.update(pending)
            pending = {}
        progress = True
        while pending and progress:  # else one by one, until no more can be taken
            progress = False
            for path, flow in list(pending.items()):
                trial = {**live, path: flow}
                _, errors = _link(files, trial, last=[path])
                if not [e for e in errors if _key(e) not in baseline]:
                    live, baseline, progress = trial, _keys(errors), True
                    del pending[path]
        for path in set(self._held) - set(pending):
            self._errors.pop(path, None)
            log.info("flow %s loaded from %s (version %s)", live[path].name, path, live[path].version)
        for path, flow in pending.items():
            _, errors = _link(files, {**live, path: flow}, last=[path])
            self._errors[path] = [_rejection(path, e) for e in errors if _key(e) not in baseline]
            for e in self._errors[path]:
                log.error("flow rejected, previous version stays live: %s", e)
        self._good, self._held = live, pending
        self._flows, self._link_errors = _link(files, live)
        for e in self._link_errors:
            log.error("flow problem: %s", e)

    async def watch(self, interval: float = 0.5) -> None:
        """Poll for changes forever (cancel the task to stop)."""
        while True:
            await asyncio.sleep(interval)
            try:
                self.reload()  # small files; in the loop so readers never see a half-updated registry
            except Exception:
                log.exception("flow reload failed; previous versions stay live")


def _link(
    files: list[Path], chosen: Mapping[Path, Flow], last: Sequence[Path] = ()
) -> tuple[dict[str, Flow], list[FlowError]]:
    """Link the flows of ``chosen`` by name (later directories override earlier ones: site over
    shipped); the flows of ``last`` go last, so a number they share with another flow is their error."""
    by_name: dict[str, Flow] = {}
    for path in files:
        if path in chosen:
            by_name[chosen[path].name] = chosen[path]
    for path in last:
        flow = chosen[path]
        if by_name.get(flow.name) is flow:
            by_name[flow.name] = by_name.pop(flow.name)
    return link(by_name)


def _key(error: FlowError) -> tuple[str, str, str]:
    """An error without its position (an edit moves lines; the same problem must compare equal)."""
    return error.file, error.node_path, error.message


def _keys(errors: list[FlowError]) -> set[tuple[str, str, str]]:
    return {_key(e) for e in errors}


def _rejection(path: Path, error: FlowError) -> FlowError:
    """``error`` as the reason ``path``'s new version is not live (said in another file's terms when
    the edit breaks another flow, e.g. a rename that leaves a subflow dangling)."""
    if error.file == str(path):
        return error
    return FlowError(str(path), 1, 1, "", f"this version is not used: with it, {error}")
