"""Where the controller's CPU goes: py-spy samples during a bench level, summarised by area.

``python -m bench.capacity --profile`` runs ``py-spy record --format raw`` against the controller
for each controller level (`Profiler`) and prints `area_table` of the samples. The raw format is
one collapsed stack per line, outermost frame first: ``process 12:"…";fn (file.py:3);… <count>``.
Each sample is charged to the innermost frame that belongs to a known area (`AREAS`): a
``json.loads`` called by the event stream counts as JSON decoding, a log call made by the flow
engine counts as logging, and code that is none of these counts for its nearest known caller.
``python -m bench.profile FILE…`` summarises saved profiles again.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

OTHER = "other"
AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("JSON encode/decode", ("json/", "orjson")),
    ("logging", ("logging/",)),
    ("ARI event parsing", ("ivr/ari/events.py", "ivr/ari/models.py")),
    ("SQLAlchemy / store writes", ("sqlalchemy/", "aiosqlite/", "sqlite3/", "ivr/store/")),
    ("websocket frames", ("aiohttp/_websocket", "aiohttp/http_websocket", "aiohttp/client_ws")),
    ("web API (aiohttp server)", ("aiohttp/web", "ivr/web/")),
    (
        "aiohttp client requests",
        ("aiohttp/", "yarl/", "multidict/", "ivr/ari/client.py", "ivr/ari/resources.py"),
    ),
    ("flow engine", ("ivr/flows/",)),
    ("call sessions / executor", ("ivr/calls/", "acd/")),
    ("ARI stream", ("ivr/ari/",)),
    ("asyncio scheduling", ("asyncio/", "selectors.py", "uvloop")),
)
"""Areas in the order they are tested against one frame; the first whose marker is in the frame's
file wins (so ``aiohttp/_websocket`` is a websocket frame before it is an aiohttp request)."""


def frame_area(frame: str) -> str | None:
    """The area of one ``fn (path/file.py:line)`` frame, or None when it belongs to none."""
    start = frame.rfind(" (")
    where = frame[start + 2 :] if start >= 0 else frame
    for area, markers in AREAS:
        if any(marker in where for marker in markers):
            return area
    return None


@dataclass(frozen=True)
class Sample:
    """One raw line: the sampled process (``pid:"command"``), the outermost process of its stack (the
    profiled one), its frames outermost first, the count."""

    process: str
    root: str
    frames: list[str]
    count: int


def parse_line(line: str) -> Sample | None:
    """One raw line → `Sample`, or None for a line that is not one. With ``--subprocesses`` a child's
    stack starts with its parent's process frame, then its own: the last one is the sampled process."""
    stack, _, count = line.rstrip("\n").rpartition(" ")
    if not stack or not count.isdigit():
        return None
    parts = stack.split(";")
    processes = [f.removeprefix("process ") for f in parts if f.startswith("process ")]
    frames = [f for f in parts if f and not f.startswith("process ")]
    return Sample(processes[-1] if processes else "", processes[0] if processes else "", frames, int(count))


def parse(lines: Sequence[str]) -> list[Sample]:
    return [s for line in lines if (s := parse_line(line)) is not None]


@dataclass(frozen=True)
class Share:
    area: str
    samples: int
    percent: float


def _shares(counts: Counter[str]) -> tuple[list[Share], int]:
    total = sum(counts.values())
    return ([Share(a, n, 100.0 * n / total) for a, n in counts.most_common()] if total else []), total


def process_shares(samples: Sequence[Sample]) -> tuple[list[Share], int]:
    """Samples per process (the controller, its TTS workers…), largest first, and the total."""
    counts: Counter[str] = Counter()
    for sample in samples:
        counts[sample.process] += sample.count
    return _shares(counts)


def root_samples(samples: Sequence[Sample]) -> list[Sample]:
    """The samples of the profiled process itself, not of its children."""
    return [s for s in samples if s.process == s.root]


def area_shares(samples: Sequence[Sample]) -> tuple[list[Share], int]:
    """Samples per area (innermost known frame wins), largest first, and the total."""
    counts: Counter[str] = Counter()
    for sample in samples:
        area = next((a for f in reversed(sample.frames) if (a := frame_area(f)) is not None), OTHER)
        counts[area] += sample.count
    return _shares(counts)


def top_frames(samples: Sequence[Sample], n: int = 10) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The ``n`` frames with most samples on top of the stack (self) and anywhere in it (cumulative,
    each frame counted once per sample)."""
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    for sample in samples:
        if not sample.frames:
            continue
        own[_without_line(sample.frames[-1])] += sample.count
        for frame in {_without_line(f) for f in sample.frames}:
            cumulative[frame] += sample.count
    return own.most_common(n), cumulative.most_common(n)


def _without_line(frame: str) -> str:
    """``fn (file.py:12)`` → ``fn (file.py)``: samples of one function on different lines add up."""
    head, sep, tail = frame.rpartition(":")
    return f"{head})" if sep and tail.rstrip(")").isdigit() else frame


def area_table(lines: Sequence[str], *, top: int = 8) -> str:
    """A plain-text summary: share per process, then for the profiled process itself the share per
    area and the top self and cumulative frames."""
    samples = parse(lines)
    processes, total = process_shares(samples)
    if not total:
        return "no samples"
    out = [f"{total} samples; by process:"]
    out += [f"  {s.percent:5.1f} %  {s.area[:100]}" for s in processes]
    mine = root_samples(samples)
    shares, own_total = area_shares(mine)
    out.append(f"the profiled process ({own_total} samples), by area:")
    out += [f"  {s.percent:5.1f} %  {s.area}" for s in shares]
    own, cumulative = top_frames(mine, top)
    total = own_total or 1
    out.append("  top self:")
    out += [f"    {100.0 * n / total:5.1f} %  {f}" for f, n in own]
    out.append("  top cumulative:")
    out += [f"    {100.0 * n / total:5.1f} %  {f}" for f, n in cumulative]
    return "\n".join(out)


class ProfilerError(RuntimeError):
    """py-spy is missing or could not attach."""


class Profiler:
    """``py-spy record`` on one pid (and its children) until `stop`; raw samples to ``out``."""

    def __init__(self, pid: int, out: Path, *, rate: int = 200) -> None:
        self.pid = pid
        self.out = out
        self.rate = rate
        self._proc: asyncio.subprocess.Process | None = None

    @staticmethod
    def executable() -> str:
        """py-spy beside this interpreter, else on PATH; ProfilerError when there is none."""
        beside = Path(sys.executable).with_name("py-spy")
        found = str(beside) if beside.exists() else shutil.which("py-spy")
        if found is None:
            raise ProfilerError("--profile needs py-spy (.venv/bin/pip install py-spy)")
        return found

    async def start(self) -> None:
        self._proc = await asyncio.create_subprocess_exec(
            self.executable(),
            "record",
            "--format",
            "raw",
            "--rate",
            str(self.rate),
            "--pid",
            str(self.pid),
            "--subprocesses",
            "--nonblocking",
            "--output",
            str(self.out),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    async def stop(self) -> list[str]:
        """Stop recording (SIGINT makes py-spy write its file); the raw lines recorded."""
        proc, self._proc = self._proc, None
        if proc is None:
            return []
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
        try:
            _, err = await asyncio.wait_for(proc.communicate(), 30.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise ProfilerError(f"py-spy did not stop within 30 s (pid {proc.pid})") from None
        try:
            return self.out.read_text(errors="replace").splitlines()
        except OSError:
            tail = err.decode(errors="replace").strip().splitlines()[-1:] if err else []
            raise ProfilerError(f"py-spy wrote no profile: {' '.join(tail) or 'no output'}") from None


def main(argv: Sequence[str] | None = None) -> int:
    paths = list(sys.argv[1:] if argv is None else argv)
    if not paths:
        print("usage: python -m bench.profile RAW_PROFILE…", file=sys.stderr)
        return 2
    lines: list[str] = []
    for path in paths:
        lines += Path(path).read_text(errors="replace").splitlines()
    print(area_table(lines, top=15))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
