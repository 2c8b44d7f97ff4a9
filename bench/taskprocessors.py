"""Asterisk's taskprocessor queues (``core show taskprocessors``): how deep the stasis/ARI queues got.

``parse`` and ``deepest`` are pure; ``show_taskprocessors`` runs ``asterisk -rx`` against an instance's
control socket (inside its Debian root when it runs chrooted). A queue deeper than its high-water mark
raises Asterisk's taskprocessor overload alert, which makes PJSIP refuse new calls
(``taskprocessor_overload_trigger``); "Max Depth" is the deepest the queue has been since Asterisk started.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ivr.pbx.instance import Pbx

WATCHED = ("stasis", "ari", "app_stasis")
"""Name prefixes of the queues that carry ARI events (stasis topics, the ARI websocket, Stasis apps)."""


@dataclass(frozen=True)
class Taskprocessor:
    name: str
    processed: int
    in_queue: int
    max_depth: int
    low_water: int
    high_water: int

    @property
    def watched(self) -> bool:
        return self.name.startswith(WATCHED)


COLUMNS = {
    "Processed": "processed",
    "In Queue": "in_queue",
    "Max Depth": "max_depth",
    "Low water": "low_water",
    "High water": "high_water",
}
"""The header's labels this module reads, and the field each fills. Asterisk 22 adds "Low time(us)" and
"High time(us)" after "High water"; columns are found by their place in the header, never assumed."""
_LABEL = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)?(?:\(\w+\))?")


def header_labels(line: str) -> list[str] | None:
    """The numeric columns' labels of a ``Processor …`` header line, in order (None for another line)."""
    if not line.lstrip().startswith("Processor"):
        return None
    rest = line.lstrip()[len("Processor") :]
    return [m.group(0) for m in _LABEL.finditer(rest)]


def parse(text: str) -> list[Taskprocessor]:
    """The rows of ``core show taskprocessors``: the name, then one whole number per header column.
    Lines before the header, and lines that do not fit it, are skipped; without a header nothing is read."""
    out = []
    labels: list[str] | None = None
    for line in text.splitlines():
        found = header_labels(line)
        if found is not None:
            labels = found if all(label in found for label in COLUMNS) else None
            continue
        parts = line.split()
        if labels is None or len(parts) < len(labels) + 1:
            continue
        try:
            numbers = [int(p) for p in parts[-len(labels) :]]
        except ValueError:
            continue
        values = dict(zip(labels, numbers, strict=True))
        fields = {field: values[label] for label, field in COLUMNS.items()}
        out.append(Taskprocessor(" ".join(parts[: -len(labels)]), **fields))
    return out


@dataclass(frozen=True)
class Depth:
    """The deepest watched queue seen, and the fullest one relative to its high-water mark."""

    name: str
    max_depth: int
    high_water: int
    max_in_queue: int
    fullest_share: float
    queues: int

    def describe(self) -> str:
        return (
            f"{self.queues} stasis/ARI taskprocessors; deepest {self.name}: max depth {self.max_depth} "
            f"(high water {self.high_water}); largest 'In Queue' seen {self.max_in_queue}; "
            f"fullest at {self.fullest_share:.0%} of its high-water mark"
        )


def deepest(samples: Iterable[Sequence[Taskprocessor]]) -> Depth | None:
    """Over every sample, the watched queue with the largest Max Depth (None when none was seen)."""
    rows = [tp for sample in samples for tp in sample if tp.watched]
    if not rows:
        return None
    top = max(rows, key=lambda tp: tp.max_depth)
    share = max((tp.max_depth / tp.high_water for tp in rows if tp.high_water > 0), default=0.0)
    return Depth(
        name=top.name,
        max_depth=top.max_depth,
        high_water=top.high_water,
        max_in_queue=max(tp.in_queue for tp in rows),
        fullest_share=share,
        queues=len({tp.name for tp in rows}),
    )


def rx_argv(pbx: Pbx, command: str) -> list[str]:
    """``asterisk -C <its asterisk.conf> -rx <command>`` (through chroot for a root-mode instance)."""
    conf = str(pbx.asterisk_path(pbx.instance_dir / "etc" / "asterisk.conf"))
    argv = [pbx.binary, "-C", conf, "-rx", command]
    return argv if pbx.chroot is None else ["chroot", str(pbx.chroot), *argv]


def show_taskprocessors(pbx: Pbx, timeout_s: float = 10.0) -> list[Taskprocessor]:
    done = subprocess.run(
        rx_argv(pbx, "core show taskprocessors"),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return parse(done.stdout)
