"""Capacity: our controller over ARI vs a dialplan-only IVR on the same Asterisk.

``python -m bench.capacity`` (``make bench``) starts one private Asterisk, ramps SIPp callers
against the dialplan IVR (``bench-dialplan``) and then against the controller running
``bench/flows/bench.yaml`` (``bench-ari``), samples CPU and the controller's latency, prints a
table and writes it to ``docs/benchmarks.md``. Everything it starts is stopped by pid, also on
Ctrl-C or failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import datetime as dt
import os
import re
import shlex
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from bench.cpu import CpuProbe, quiet
from bench.levels import (
    DEFAULT_LEVELS,
    QUICK_CALLS,
    QUICK_LEVELS,
    CpuSample,
    LevelPlan,
    LevelResult,
    parse_levels,
    plan_level,
    plateau_cpu,
    should_continue,
)
from bench.profile import Profiler, ProfilerError, area_table
from bench.report import CONTROLLER, DIALPLAN, RunInfo, markdown_report, summary_lines, text_table
from bench.stack import Controllers, start_bench_pbx, stop_stack
from ivr.testing.sipp import SippError, caller_pcap, start_sipp
from ivr.testing.stack import ControllerProcess, TestPbx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCS_PATH = PROJECT_ROOT / "docs" / "benchmarks.md"
OTHER_SECTIONS = ("## Capacity: where the controller's time goes", "## ACD against app_queue")
"""Sections after the capacity report that a capacity run keeps (the profile summary, written by hand
from ``--profile``, and the other benchmarks')."""


def keep_other_sections(path: Path, report: str) -> str:
    """The capacity report, followed by everything in ``path`` from the first of ``OTHER_SECTIONS`` on."""
    try:
        old = path.read_text()
    except OSError:
        return report
    found = [old.index(h) for h in OTHER_SECTIONS if h in old]
    if not found:
        return report
    return report.rstrip("\n") + "\n\n" + old[min(found) :].rstrip("\n") + "\n"


SERVICES = {DIALPLAN: "bench-dialplan", CONTROLLER: "bench-ari"}
TARGETS = (DIALPLAN, CONTROLLER)
KEYED = "4271#"
EXPECTED = "4271"
LEAD_SILENCE_S = 2.5  # the greeting (hello-world, 1.4 s) ends before the first key in both IVRs
TRAILING_SILENCE_S = 1.0
RECV_TIMEOUT_S = 30.0
API_LIMIT = 500  # GET /api/calls returns at most this many calls
DIALPLAN_READ = re.compile(r"bench-dialplan read (\S*)\s*$")
FALLBACK_CALL_S = 9.0
QUIET_CORES = 0.1
QUIET_S = 3
WARM_UP_LIMIT_S = 300.0
"""A freshly started controller loads the recognisers and synthesises the shipped flows' prompts
(cached across restarts) for a while: a level starts once its tree is quiet, so that warm-up is not
charged to the level's calls (it is paid once per start, not per call)."""


class BenchError(RuntimeError):
    """The benchmark cannot run (setup failed, an IVR does not work at all)."""


# --- pure helpers ------------------------------------------------------------------------------
def open_calls_from_stats(text: str) -> int:
    """``CurrentCall`` of the last row of SIPp's ``-trace_stat`` CSV (0 when there is none yet)."""
    rows = [r for r in csv.reader(text.splitlines(), delimiter=";") if r]
    if len(rows) < 2 or "CurrentCall" not in rows[0]:
        return 0
    index = rows[0].index("CurrentCall")
    try:
        return int(rows[-1][index])
    except (IndexError, ValueError):
        return 0


def dialplan_reads(lines: Sequence[str]) -> list[str]:
    """The digits the dialplan IVR logged as read (``Log(NOTICE,bench-dialplan read …)``)."""
    return [m.group(1) for line in lines if (m := DIALPLAN_READ.search(line))]


def caller_number(target: str, concurrency: int) -> str:
    """A caller number unique to one level of one target, so its calls can be found in the API."""
    return f"{TARGETS.index(target) + 7}{concurrency:05d}"


def read_back(call: dict[str, Any]) -> bool:
    """A controller call that collected the keyed digits and reached the read-back node."""
    values = [str(i.get("value")) for i in call.get("inputs") or [] if isinstance(i, dict)]
    return EXPECTED in values and "readback" in (call.get("path") or [])


def not_read_back_reason(call: dict[str, Any]) -> str:
    """Why a controller call is not `read_back`, from its record: the digits it read back instead (the
    keys Asterisk reported, e.g. a digit reported twice), or where it ended and how."""
    values = [str(i.get("value")) for i in call.get("inputs") or [] if isinstance(i, dict)]
    path = call.get("path") or []
    if "readback" in path:
        return f"read back {'/'.join(values) or 'no digits'}"
    last = path[-1] if path else "no node"
    return f"ended at {last} ({call.get('outcome')}, {call.get('hangup_cause')})"


def machine() -> tuple[int, str]:
    nproc = len(os.sched_getaffinity(0))
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return nproc, model


# --- one level ---------------------------------------------------------------------------------
class Bench:
    def __init__(
        self, pbx: TestPbx, controllers: Controllers, pcap: Path, workdir: Path, *, profile: bool = False
    ) -> None:
        self.pbx = pbx
        self.controllers = controllers
        self.pcap = pcap
        self.workdir = workdir
        self.profile = profile
        self.profiles: dict[int, list[str]] = {}
        """py-spy raw samples of the controller per level (``--profile``; the preflight is not profiled)."""

    def _asterisk_pid(self) -> int:
        pid = self.pbx.pbx.pid
        if pid is None:
            raise BenchError(f"Asterisk is not running any more; see {self.pbx.pbx.log_dir}")
        return pid

    async def run_level(self, target: str, plan: LevelPlan, *, tag: int | None = None) -> LevelResult:
        """One SIPp run; ``tag`` (default: the level) makes the callers' number unique."""
        controller = self.controllers.current if target == CONTROLLER else None
        roots = {"asterisk": self._asterisk_pid()}
        if controller is not None and controller.proc is not None:
            roots["controller"] = controller.proc.pid
        log_before = len(self.pbx.pbx.log_lines())
        caller = caller_number(target, plan.concurrency if tag is None else tag)
        sipp = await start_sipp(
            "caller_waits_bye",
            self.pbx.sip_target,
            service=SERVICES[target],
            keys={"caller": caller, "display": f"bench {target}"},
            pcap=self.pcap,
            calls=plan.calls,
            rate=plan.rate,
            limit=plan.concurrency,
            timeout_s=plan.timeout_s,
            recv_timeout_s=RECV_TIMEOUT_S,
        )
        samples: list[CpuSample] = []
        probe = CpuProbe({**roots, "sipp": sipp.pid})
        profiler = None
        if self.profile and tag is None and "controller" in roots:
            out = self.workdir / f"profile-controller-{plan.concurrency}.txt"
            profiler = Profiler(roots["controller"], out)
            await profiler.start()
        try:
            stats_csv = sipp.workdir / "stats.csv"
            while sipp.running:
                await asyncio.sleep(1.0)
                cores = probe.sample()
                with contextlib.suppress(OSError):
                    samples.append(CpuSample(open_calls_from_stats(stats_csv.read_text()), cores))
            sipp_result = await sipp.wait()
        except BaseException:
            await sipp.stop()
            if profiler is not None:
                await profiler.stop()
            raise
        if profiler is not None:
            self.profiles[plan.concurrency] = await profiler.stop()
        cpu, plateau_calls = plateau_cpu(samples, plan.concurrency)
        result = LevelResult(
            target=target,
            plan=plan,
            successful=sipp_result.successful,
            failed=plan.calls - sipp_result.successful,
            peak_open=max((s.open_calls for s in samples), default=0),
            elapsed_s=sipp_result.elapsed_s,
            cpu=cpu,
            cpu_s=probe.cpu_seconds(),
            plateau_calls=plateau_calls,
        )
        if sipp_result.timed_out:
            result.note = f"SIPp timed out with {sipp_result.open_calls} calls open"
        elif sipp_result.failed and sipp_result.errors_tail.strip():
            last = sipp_result.errors_tail.strip().splitlines()[-1]
            result.note = f"SIPp: {last[:160]}"
        if controller is not None:
            await self._verify_controller(controller, caller, result)
            self._latency(controller, result)
        else:
            await self._verify_dialplan(log_before, result)
        return result

    async def _verify_controller(
        self, controller: ControllerProcess, caller: str, result: LevelResult
    ) -> None:
        """Wait for the level's call records to settle, then count the ones read back."""
        wanted = min(result.successful, API_LIMIT)
        mine: list[dict[str, Any]] = []
        deadline = time.monotonic() + 20.0
        while True:
            calls = await asyncio.to_thread(controller.calls, API_LIMIT)
            mine = [c for c in calls if (c.get("caller") or {}).get("number") == caller]
            settled = sum(1 for c in mine if c.get("ended_at"))
            if (settled >= wanted and sum(map(read_back, mine)) >= wanted) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
        result.checked = len(mine)
        result.verified = sum(1 for c in mine if read_back(c))
        result.unverified = max(0, wanted - result.verified)
        if result.unverified:
            reasons = Counter(not_read_back_reason(c) for c in mine if not read_back(c))
            if len(mine) < wanted:
                reasons["no record found"] += wanted - len(mine)
            shown = ", ".join(f"{n}× {why}" for why, n in reasons.most_common(4))
            more = f", {len(reasons) - 4} more kinds" if len(reasons) > 4 else ""
            result.note = (result.note + "; " if result.note else "") + (
                f"{result.unverified} calls not read back ({shown}{more})"
            )

    async def _verify_dialplan(self, log_before: int, result: LevelResult) -> None:
        deadline = time.monotonic() + 10.0
        reads: list[str] = []
        while True:
            reads = dialplan_reads(self.pbx.pbx.log_lines()[log_before:])
            if sum(r == EXPECTED for r in reads) >= result.successful or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        result.checked = result.successful
        result.verified = sum(r == EXPECTED for r in reads)
        result.unverified = max(0, result.successful - result.verified)
        if result.unverified:
            others = sorted({r for r in reads if r != EXPECTED})[:5]
            result.note = (result.note + "; " if result.note else "") + (
                f"{result.unverified} calls not read back (other reads: {others})"
            )

    @staticmethod
    def _latency(controller: ControllerProcess, result: LevelResult) -> None:
        status, body = controller.get("/api/stats")
        if status != 200 or not isinstance(body, dict):
            result.note = (result.note + "; " if result.note else "") + f"/api/stats answered {status}"
            return
        result.p50_ms = body.get("event_to_command_p50_ms")
        result.p99_ms = body.get("event_to_command_p99_ms")
        result.latency_samples = int(body.get("latency_samples") or 0)

    async def preflight(self, target: str) -> float:
        """One call; proves the target reads back the digits. Returns the call's length."""
        plan = LevelPlan(concurrency=1, calls=1, rate=1.0)
        result = await self.run_level(target, plan, tag=0)
        if not result.clean:
            detail = ""
            if target == CONTROLLER and self.controllers.current is not None:
                detail = "\n--- controller log ---\n" + self.controllers.current.log_tail(40)
            else:
                detail = "\n--- Asterisk log ---\n" + "\n".join(self.pbx.pbx.log_lines()[-20:])
            raise BenchError(
                f"{target} IVR failed its first call (ok {result.successful}, read back "
                f"{result.verified}; {result.note or 'no detail'}){detail}"
            )
        return result.elapsed_s

    async def settle(self, echo: Callable[[str], None]) -> None:
        """Wait until the controller (with its TTS and speech children) is idle, at most
        ``WARM_UP_LIMIT_S``; a controller still busy then is benched as it is, and the output says so."""
        controller = self.controllers.current
        if controller is None or controller.proc is None:
            return
        probe = CpuProbe({"controller": controller.proc.pid})
        history: list[float] = []
        began = time.monotonic()
        while not quiet(history, below=QUIET_CORES, seconds=QUIET_S):
            if time.monotonic() - began > WARM_UP_LIMIT_S:
                echo(
                    f"  controller still busy after {WARM_UP_LIMIT_S:.0f} s "
                    f"({history[-1]:.2f} cores); going on"
                )
                return
            await asyncio.sleep(1.0)
            history.append(probe.sample()["controller"])
        if len(history) > QUIET_S:
            echo(f"  controller warm-up took {len(history) - QUIET_S} s (speech models, prompt cache)")

    async def ramp(
        self, target: str, plans: Sequence[LevelPlan], echo: Callable[[str], None]
    ) -> list[LevelResult]:
        results: list[LevelResult] = []
        for plan in plans:
            if target == CONTROLLER:
                await asyncio.to_thread(self.controllers.restart)
                await self.settle(echo)
            echo(f"{target}: {plan.concurrency} concurrent, {plan.calls} calls at {plan.rate:g}/s …")
            result = await self.run_level(target, plan)
            results.append(result)
            echo(
                f"  ok {result.successful}/{plan.calls}, read back {result.verified}, peak open "
                f"{result.peak_open}, cpu {', '.join(f'{k} {v:.2f}' for k, v in result.cpu.items())}"
                + (f" — {result.note}" if result.note else "")
            )
            if plan.concurrency in self.profiles:
                echo(f"  controller profile ({self.workdir}/profile-controller-{plan.concurrency}.txt):")
                echo(area_table(self.profiles[plan.concurrency]))
            if not should_continue(results):
                break
        return results


# --- the run -----------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.capacity",
        description="Capacity of the controller IVR vs a dialplan-only IVR on the same Asterisk.",
    )
    parser.add_argument(
        "--levels",
        help=f"comma-separated concurrency levels (default {','.join(map(str, DEFAULT_LEVELS))}; "
        f"--quick: {','.join(map(str, QUICK_LEVELS))})",
    )
    parser.add_argument(
        "--calls-per-level",
        type=int,
        help=f"calls placed per level (default 2 × the level; at least the level; --quick: {QUICK_CALLS})",
    )
    parser.add_argument("--quick", action="store_true", help="smoke check: small levels, few calls")
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help="which IVRs, in order (default dialplan,controller)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help=f"Markdown report path (default {DOCS_PATH.relative_to(PROJECT_ROOT)}; --quick writes none)",
    )
    parser.add_argument("--no-output", action="store_true", help="write no Markdown report")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the controller with py-spy during each controller level and print where its CPU "
        "goes (raw profiles in the work directory: add --keep to keep them)",
    )
    return parser.parse_args(argv)


def _echo(line: str) -> None:
    print(line, flush=True)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: Sequence[str] | None = None) -> int:
    raw_args = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw_args)
    try:
        levels = (
            parse_levels(args.levels) if args.levels else (QUICK_LEVELS if args.quick else DEFAULT_LEVELS)
        )
        targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
        unknown = [t for t in targets if t not in TARGETS]
        if unknown or not targets:
            raise ValueError(f"--targets must name {' and/or '.join(TARGETS)}, got {args.targets!r}")
        if args.calls_per_level is not None and args.calls_per_level < 1:
            raise ValueError("--calls-per-level must be at least 1")
        if args.profile:
            Profiler.executable()
    except (ValueError, ProfilerError) as exc:
        print(f"bench.capacity: {exc}", file=sys.stderr)
        return 2
    calls = (
        args.calls_per_level if args.calls_per_level is not None else (QUICK_CALLS if args.quick else None)
    )
    output = None if args.no_output else (args.output or (None if args.quick else DOCS_PATH))
    command = shlex.join(["python", "-m", "bench.capacity", *raw_args])

    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-"))
    pbx: TestPbx | None = None
    controllers: Controllers | None = None
    echo = _echo
    try:
        echo(f"work directory {workdir}; starting Asterisk …")
        pbx = start_bench_pbx(workdir / "data", max_calls=max(levels))
        controllers = Controllers(env=pbx.env, log_path=workdir / "controller.log")
        pcap = caller_pcap(
            workdir / "caller.pcap",
            KEYED,
            lead_silence_s=LEAD_SILENCE_S,
            trailing_silence_s=TRAILING_SILENCE_S,
        )
        bench = Bench(pbx, controllers, pcap, workdir, profile=args.profile)
        by_target, call_s = asyncio.run(_run(bench, targets, levels, calls, echo))
        nproc, model = machine()
        info = RunInfo(
            command=command,
            date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            nproc=nproc,
            cpu_model=model,
            call_s=call_s,
            pcap=f"{LEAD_SILENCE_S:g} s silence, DTMF `{KEYED}` (160 ms tones, 240 ms gaps), "
            f"{TRAILING_SILENCE_S:g} s silence",
        )
        echo("")
        for results in by_target.values():
            echo(text_table(results))
            echo("")
        for line in summary_lines(by_target):
            echo(line)
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(keep_other_sections(output, markdown_report(info, by_target)))
            echo(f"\nwrote {output}")
        return 0
    except (BenchError, SippError, ProfilerError) as exc:
        print(f"bench.capacity: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench.capacity: interrupted; stopping what was started", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # no second interrupt during cleanup
        stop_stack(
            "bench.capacity",
            controllers.stop if controllers is not None else None,
            pbx,
            workdir,
            keep=args.keep,
            echo=echo,
        )
        signal.signal(signal.SIGTERM, previous)


async def _run(
    bench: Bench,
    targets: Sequence[str],
    levels: Sequence[int],
    calls: int | None,
    echo: Callable[[str], None],
) -> tuple[dict[str, list[LevelResult]], float]:
    call_s = 0.0
    if DIALPLAN in targets:
        echo("dialplan: first call …")
        call_s = await bench.preflight(DIALPLAN)
    if CONTROLLER in targets:
        echo("controller: starting, first call …")
        await asyncio.to_thread(bench.controllers.restart)
        controller_s = await bench.preflight(CONTROLLER)
        call_s = call_s or controller_s
    call_s = call_s or FALLBACK_CALL_S
    echo(f"one call lasts {call_s:.1f} s")
    plans = [plan_level(level, call_s=call_s, calls=calls) for level in levels]
    by_target: dict[str, list[LevelResult]] = {}
    for target in targets:
        by_target[target] = await bench.ramp(target, plans, echo)
        if target == CONTROLLER:
            await asyncio.to_thread(bench.controllers.stop)
    return by_target, call_s


if __name__ == "__main__":
    raise SystemExit(main())
