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


def parse_line(line: str) -> tuple[list[str], int] | None:
    """One raw line → (frames outermost first, without process frames; sample count), or None."""
    stack, _, count = line.rstrip("\n").rpartition(" ")
    if not stack or not count.isdigit():
        return None
    frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
    return frames, int(count)


@dataclass(frozen=True)
class Share:
    area: str
    samples: int
    percent: float


def area_shares(lines: Sequence[str]) -> tuple[list[Share], int]:
    """Samples per area (innermost known frame wins), largest first, and the total."""
    counts: Counter[str] = Counter()
    for line in lines:
        parsed = parse_line(line)
        if parsed is None:
            continue
        frames, count = parsed
        area = next((a for f in reversed(frames) if (a := frame_area(f)) is not None), OTHER)
        counts[area] += count
    total = sum(counts.values())
    shares = [Share(a, n, 100.0 * n / total) for a, n in counts.most_common()] if total else []
    return shares, total


def top_frames(lines: Sequence[str], n: int = 10) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """The ``n`` frames with most samples on top of the stack (self) and anywhere in it (cumulative,
    each frame counted once per sample)."""
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    for line in lines:
        parsed = parse_line(line)
        if parsed is None or not parsed[0]:
            continue
        frames, count = parsed
        own[_without_line(frames[-1])] += count
        for frame in {_without_line(f) for f in frames}:
            cumulative[frame] += count
    return own.most_common(n), cumulative.most_common(n)


def _without_line(frame: str) -> str:
    """``fn (file.py:12)`` → ``fn (file.py)``: samples of one function on different lines add up."""
    head, sep, tail = frame.rpartition(":")
    return f"{head})" if sep and tail.rstrip(")").isdigit() else frame


def area_table(lines: Sequence[str], *, top: int = 8) -> str:
    """A plain-text summary: share per area, then the top self and cumulative frames."""
    shares, total = area_shares(lines)
    if not total:
        return "no samples"
    out = [f"{total} samples"]
    out += [f"  {s.percent:5.1f} %  {s.area}" for s in shares]
    own, cumulative = top_frames(lines, top)
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
