"""Load, reconciliation and soak: a realistic caller mix on the shop flow, then SIPp = CDR = store.

``python -m bench.load`` (small defaults: ~1-2 min) starts a private Asterisk and the controller with
six SIPp operators on the shop's ``orders`` queue, places the mix of ``bench/load_plan.py`` (one SIPp
per kind of caller), samples concurrency, CPU, memory, open fds and Asterisk's taskprocessor queues,
then reconciles SIPp's successful calls with Asterisk's CDR caller legs and the store's calls and
outcomes. A mismatch exits 1 with the ids. ``--soak SECONDS`` keeps the load on that long and reports
the RSS/fd slopes. Writes the "Load, reconciliation and soak" section of docs/benchmarks.md unless
``--no-output``. Everything it starts is stopped by pid.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import shlex
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from acd.config import load_acd
from bench.acd import AcdBench, BenchError, Plan
from bench.acd_report import replace_section
from bench.capacity import machine, open_calls_from_stats
from bench.cpu import CpuProbe
from bench.load_plan import HANGS_UP, SAY, KindPlan, injection_file, plan_mix
from bench.load_report import SECTION, LoadFigures, markdown_section, text_report
from bench.reconcile import (
    Reconciliation,
    SippCount,
    StoreCall,
    caller_legs,
    cdr_rows,
    reconcile,
)
from bench.soak import Series, sample_tree
from bench.stack import start_bench_pbx, stop_stack
from bench.taskprocessors import Taskprocessor, deepest, show_taskprocessors
from ivr.testing.prompt_cache import copy_new, default_cache
from ivr.testing.rtp_pcap import Audio, Dtmf, Segment, Silence, write_pcap
from ivr.testing.sipp import SippError, SippProcess, start_sipp
from ivr.testing.stack import ControllerProcess, TestPbx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCS_PATH = PROJECT_ROOT / "docs" / "benchmarks.md"
SITE = Path(__file__).resolve().parent / "load_site"
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
CALLER_SCENARIO = SCENARIOS / "acd_caller.xml"
ABANDON_SCENARIO = SCENARIOS / "load_abandon.xml"
RATE, DURATION_S, TALK_S, SEED = 1.0, 45.0, 3.0, 11
LEAD_SILENCE_S = 1.5
WAIT_BYE_S = 150.0
SOAK_EVERY_S, TASKPROCESSORS_EVERY_S = 5.0, 10.0


# --- speech -------------------------------------------------------------------------------------
def spoken_wav(folder: Path, text: str) -> Path | None:
    """``text`` as a WAV a caller says: the Piper voice, else espeak-ng; None when neither is installed."""
    out = folder / f"say-{text.replace(' ', '_')}.wav"
    from ivr.tts.voices import piper_voice

    voice = piper_voice()
    if voice.missing() is None:
        from ivr.tts.worker import piper

        piper(voice.files[0])(text, 160, out)
        return out
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(out), text], check=True, capture_output=True)
        return out
    return None


def caller_stream(plan: KindPlan, folder: Path) -> Path:
    segments: list[Segment] = [Silence(LEAD_SILENCE_S)]
    for step in plan.kind.steps:
        if isinstance(step, float | int):
            segments.append(Silence(float(step)))
        elif step.startswith(SAY):
            wav = spoken_wav(folder, step[len(SAY) :])
            if wav is None:
                raise BenchError("neither Piper nor espeak-ng is installed: no speech callers (--no-speech)")
            segments.append(Audio(wav))
        else:
            segments.append(Dtmf(step))
    segments.append(Silence(plan.kind.trailing_silence_s))
    return write_pcap(folder / f"{plan.kind.name}.pcap", segments)


# --- the run ------------------------------------------------------------------------------------
@dataclass
class Sampled:
    open_calls: list[int]
    cpu: list[dict[str, float]]
    soak: dict[str, Series]
    taskprocessors: list[list[Taskprocessor]]


class LoadRun:
    def __init__(self, pbx: TestPbx, controller: ControllerProcess, workdir: Path) -> None:
        self.pbx = pbx
        self.controller = controller
        self.workdir = workdir
        self.target = pbx.sip_target  # where callers' INVITEs go (a Kamailio in front, for bench.cluster)

    def roots(self) -> dict[str, int]:
        asterisk = self.pbx.pbx.pid
        if asterisk is None or self.controller.proc is None:
            raise BenchError("Asterisk or the controller is not running any more")
        return {"asterisk": asterisk, "controller": self.controller.proc.pid}

    async def start_callers(self, plans: Sequence[KindPlan], duration_s: float) -> dict[str, SippProcess]:
        started: dict[str, SippProcess] = {}
        for plan in plans:
            folder = self.workdir / f"callers-{plan.kind.name}"
            folder.mkdir(parents=True, exist_ok=True)
            numbers = folder / "numbers.csv"
            numbers.write_text(injection_file(plan.numbers))
            hangs_up = plan.kind.scenario == HANGS_UP
            started[plan.kind.name] = await start_sipp(
                ABANDON_SCENARIO if hangs_up else CALLER_SCENARIO,
                self.target,
                service="0120",  # no flow binds it: the default flow (shop) answers
                keys={
                    "display": f"load {plan.kind.name}",
                    "hangup_ms": str(round(plan.kind.hangup_s * 1000)),
                },
                pcap=caller_stream(plan, folder),
                extra_args=["-inf", str(numbers)],
                calls=plan.calls,
                rate=plan.rate,
                limit=plan.calls,
                timeout_s=duration_s + WAIT_BYE_S + 120,
                recv_timeout_s=WAIT_BYE_S,
                log_dir=folder,
            )
        return started

    async def sample_until_done(
        self, callers: dict[str, SippProcess], echo: Callable[[str], None]
    ) -> Sampled:
        roots = self.roots()
        probe = CpuProbe(roots)
        sampled = Sampled([], [], {n: Series(n, [], [], []) for n in roots}, [])
        start = last_soak = last_tp = last_echo = time.monotonic()
        while any(s.running for s in callers.values()):
            await asyncio.sleep(1.0)
            now = time.monotonic()
            sampled.cpu.append(probe.sample())
            open_calls = 0
            for sipp in callers.values():
                with contextlib.suppress(OSError):
                    open_calls += open_calls_from_stats((sipp.workdir / "stats.csv").read_text())
            sampled.open_calls.append(open_calls)
            if now - last_soak >= SOAK_EVERY_S:
                last_soak = now
                for name, pid in roots.items():
                    sampled.soak[name].add(now - start, sample_tree(pid))
            if now - last_tp >= TASKPROCESSORS_EVERY_S:
                last_tp = now
                sampled.taskprocessors.append(await asyncio.to_thread(show_taskprocessors, self.pbx.pbx))
            if now - last_echo >= 15:
                last_echo = now
                echo(f"  {now - start:.0f} s: {open_calls} calls open")
        sampled.taskprocessors.append(await asyncio.to_thread(show_taskprocessors, self.pbx.pbx))
        return sampled

    def store_calls(self) -> list[StoreCall]:
        db = Path(self.pbx.env["IVR_DATA_DIR"]) / "ivr.db"
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
            rows = conn.execute(
                "SELECT id, channel_id, caller_number, outcome, ended_at FROM calls"
            ).fetchall()
        return [StoreCall(str(r[0]), str(r[1] or ""), str(r[2] or ""), r[3], r[4] is not None) for r in rows]

    def cdr_text(self) -> str:
        try:
            return (self.pbx.pbx.log_dir / "cdr-csv" / "Master.csv").read_text(errors="replace")
        except OSError:
            return ""

    async def settle_and_reconcile(
        self, plans: Sequence[KindPlan], sipp: dict[str, SippCount], within_s: float = 30.0
    ) -> Reconciliation:
        """Reconcile once the CDR and the (write-behind) store have caught up, or after ``within_s``."""
        placed = {p.kind.name: p.calls for p in plans}
        kinds = [p.kind for p in plans]
        deadline = time.monotonic() + within_s
        while True:
            rec = reconcile(placed, sipp, caller_legs(cdr_rows(self.cdr_text())), self.store_calls(), kinds)
            if rec.ok or time.monotonic() > deadline:
                return rec
            await asyncio.sleep(2.0)


PROMPTS_READY = "prompts ready"
PROMPTS_WAIT_S = 600.0


def wait_prompts(controller: ControllerProcess, echo: Callable[[str], None]) -> None:
    """Wait until the controller has synthesised its static prompts (a cold TTS cache takes a minute or
    more on a busy box); calls placed before would wait for their prompts and miss their typed keys."""
    echo("waiting for the controller's prompts …")
    deadline = time.monotonic() + PROMPTS_WAIT_S
    while PROMPTS_READY not in controller.log_text():
        if time.monotonic() > deadline:
            raise BenchError(f"the controller's prompts were not ready within {PROMPTS_WAIT_S:g} s")
        time.sleep(1.0)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


async def _run(
    run: LoadRun, phones: AcdBench, plans: Sequence[KindPlan], fig: LoadFigures, echo: Callable[[str], None]
) -> Reconciliation:
    budget = fig.duration_s + WAIT_BYE_S + 300
    try:
        echo(f"registering {fig.agents} operator phones …")
        await phones.start_phones(Plan((), 0, 1.0, TALK_S, ()), budget)
        await phones.all_available()
        echo(", ".join(f"{p.kind.name} {p.calls} at {p.rate:.2f}/s" for p in plans) + " …")
        callers = await run.start_callers(plans, fig.duration_s)
        try:
            sampled = await run.sample_until_done(callers, echo)
            results = {name: await sipp.wait() for name, sipp in callers.items()}
        except BaseException:
            for sipp in callers.values():
                await sipp.stop()
            raise
    finally:
        await phones.stop_phones()
    counts: dict[str, SippCount] = {}
    for name, result in results.items():
        counts[name] = SippCount(result.successful, result.failed)
        if not result.ok:
            fig.notes.append(f"{name}: {result.describe().splitlines()[0]}")
    echo("reconciling SIPp, CDR and store …")
    rec = await run.settle_and_reconcile(plans, counts)
    fig.peak_open = max(sampled.open_calls, default=0)
    busy = [n for n in sampled.open_calls if n > 0]
    fig.mean_open = _mean(busy)
    fig.cpu_cores = {
        name: _mean([s.get(name, 0.0) for s in sampled.cpu]) for name in ("asterisk", "controller")
    }
    fig.rss_mib = {n: max(s.rss_kib, default=0) / 1024 for n, s in sampled.soak.items()}
    depth = deepest(sampled.taskprocessors)
    fig.taskprocessors = "none seen (asterisk -rx failed?)" if depth is None else depth.describe()
    status, body = run.controller.get("/api/stats")
    if status == 200 and isinstance(body, dict):
        fig.p50_ms = body.get("event_to_command_p50_ms")
        fig.p99_ms = body.get("event_to_command_p99_ms")
        fig.latency_samples = int(body.get("latency_samples") or 0)
    fig.soak = [series.describe() for series in sampled.soak.values()]
    for name, series in sampled.soak.items():
        (run.workdir / f"soak-{name}.csv").write_text(series.csv())
    return rec


# --- command line -------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=RATE, help=f"calls per second (default {RATE:g})")
    parser.add_argument(
        "--duration", type=float, default=DURATION_S, help=f"seconds of arrivals (default {DURATION_S:g})"
    )
    parser.add_argument(
        "--soak", type=float, metavar="SECONDS", help="keep the load on this long; report RSS/fd slopes"
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"answer delays' seed (default {SEED})")
    parser.add_argument("--no-speech", action="store_true", help="keys only (no spoken callers)")
    parser.add_argument("--output", type=Path, help="Markdown file (default docs/benchmarks.md)")
    parser.add_argument("--no-output", action="store_true", help="write no Markdown")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (traces, logs)")
    return parser.parse_args(argv)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _echo(line: str) -> None:
    print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    raw_args = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw_args)
    duration = args.soak if args.soak is not None else args.duration
    if args.rate <= 0 or duration <= 0:
        print("bench.load: --rate and --duration/--soak must be > 0", file=sys.stderr)
        return 2
    plans = plan_mix(args.rate, duration, seed=args.seed)
    if args.no_speech:
        plans = plan_mix(
            args.rate, duration, seed=args.seed, kinds=[p.kind for p in plans if not p.kind.spoken]
        )
    config, errors = load_acd(SITE / "agents.yaml", SITE / "queues.yaml")
    if config is None:
        print("bench.load: " + "\n".join(map(str, errors)), file=sys.stderr)
        return 1
    output = None if args.no_output else (args.output or DOCS_PATH)
    nproc, model = machine()
    fig = LoadFigures(
        command=shlex.join(["python", "-m", "bench.load", *raw_args]),
        date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        machine=f"{nproc} cores, {model}",
        duration_s=duration,
        rate=args.rate,
        agents=len(config.agents),
    )
    echo = _echo
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-load-"))
    pbx: TestPbx | None = None
    controller: ControllerProcess | None = None
    try:
        echo(f"work directory {workdir}; starting Asterisk …")
        pbx = start_bench_pbx(workdir / "data", max_calls=round(args.rate * 60) + len(config.agents) + 20)
        cache = default_cache()
        echo(f"{copy_new(cache, pbx.pbx.sounds_dir)} prompts taken from the cache {cache}")
        (workdir / "flows").mkdir()
        controller = ControllerProcess(
            env={
                **pbx.env,
                "IVR_AGENTS_FILE": str(SITE / "agents.yaml"),
                "IVR_QUEUES_FILE": str(SITE / "queues.yaml"),
                "IVR_FLOWS_DIR": str(workdir / "flows"),
                "IVR_AUTO_LOGIN": "true",
                "IVR_HOURS_OVERRIDE": "open",
            },
            log_path=workdir / "controller.log",
        )
        echo("starting the controller …")
        controller.start(wait_s=90.0)
        wait_prompts(controller, echo)
        copy_new(pbx.pbx.sounds_dir, cache)
        run = LoadRun(pbx, controller, workdir)
        rec = asyncio.run(_run(run, AcdBench(pbx, controller, config, workdir), plans, fig, echo))
        echo("")
        echo(text_report(plans, fig, rec))
        if output is not None:
            document = output.read_text() if output.exists() else "# Benchmarks\n"
            output.write_text(replace_section(document, markdown_section(plans, fig, rec), SECTION))
            echo(f"\nwrote {output}")
        return 0 if rec.ok else 1
    except (BenchError, SippError, RuntimeError, TimeoutError) as exc:
        print(f"bench.load: {exc}", file=sys.stderr)
        if controller is not None:
            print("--- controller log ---\n" + controller.log_tail(30), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench.load: interrupted; stopping what was started", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_stack(
            "bench.load",
            controller.stop if controller is not None else None,
            pbx,
            workdir,
            keep=args.keep,
            echo=echo,
        )
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
