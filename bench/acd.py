"""Our ACD against Asterisk's app_queue, in one run on one Asterisk with the same operator phones.

``python -m bench.acd`` (``make bench-acd``) starts a private Asterisk and the controller (which
provisions the operators 3201–3206 of ``bench/acd_site/agents.yaml``), registers one SIPp phone per
operator (each answers after its own fixed delay, talks, hangs up), then sends the same caller load
to our ACD (``bench-acd``) and to app_queue (``bench-queue``, ``asterisk_conf/queues.conf``), one after
the other. Every phone and caller keeps a SIPp message trace; ``bench/acd_trace.py`` turns them into
dispatch latency and answer speed, measured identically for both systems. Prints a table and writes
the "ACD against app_queue" section of ``docs/benchmarks.md``. Everything is stopped by pid.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from acd.config import load_acd
from acd.model import AcdConfig
from bench.acd_report import (
    LABELS,
    OURS,
    THEIRS,
    AcdRunInfo,
    Phase,
    markdown_section,
    replace_section,
    summary_lines,
    text_table,
)
from bench.acd_trace import Offer, agent_offers, caller_entries, figures, parse_messages
from bench.capacity import machine
from bench.cpu import CpuProbe
from bench.stack import start_bench_pbx, stop_stack
from ivr.testing.sipp import SippError, SippProcess, free_udp_port, run_sipp, start_sipp
from ivr.testing.stack import ControllerProcess, TestPbx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCS_PATH = PROJECT_ROOT / "docs" / "benchmarks.md"
SITE = Path(__file__).resolve().parent / "acd_site"
AGENTS_FILE = SITE / "agents.yaml"
QUEUES_FILE = SITE / "queues.yaml"
FLOWS_DIR = SITE / "flows"
CALLER_SCENARIO = Path(__file__).resolve().parent / "scenarios" / "acd_caller.xml"
AGENT_SCENARIO = Path(__file__).resolve().parent / "scenarios" / "acd_agent.xml"
QUEUES_CONF = PROJECT_ROOT / "asterisk_conf" / "queues.conf"
QUEUE = "bench"
APP_QUEUE = "bench-queue"
SYSTEMS = (OURS, THEIRS)
SERVICES = {OURS: "bench-acd", THEIRS: "bench-queue"}
PREFIXES = {OURS: "81", THEIRS: "82"}  # caller numbers: prefix + SIPp call number
RING_CYCLE_S = 3.0
CALLS = 60
RATE = 0.7
TALK_S = 5.0
LOW_S, HIGH_S = 1.0, 6.0  # each call's answer delay, uniform
SEED = 7


class BenchError(RuntimeError):
    """The benchmark cannot run (setup failed, a system does not work at all)."""


# --- pure helpers ------------------------------------------------------------------------------
def queue_conf(text: str, section: str) -> dict[str, list[str]]:
    """The ``key = value`` lines of one ``[section]`` of an Asterisk config (``member =>`` too), comments
    dropped; a key given several times keeps every value in order."""
    out: dict[str, list[str]] = {}
    current = ""
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and "]" in line:
            current = line[1 : line.index("]")].strip()
            continue
        if current != section:
            continue
        key, sep, value = line.partition("=")
        if sep:
            out.setdefault(key.strip(), []).append(value.lstrip(">").strip())
    return out


def answer_delays(calls: int, seed: int, low_s: float = LOW_S, high_s: float = HIGH_S) -> list[float]:
    """Each call's answer delay: uniform over [low_s, high_s] in 0.1 s steps, the same for every run
    with the same seed (so both systems get the same sequence)."""
    rng = random.Random(seed)
    low, high = round(low_s * 10), round(high_s * 10)
    return [rng.randint(low, high) / 10 for _ in range(calls)]


def call_numbers(prefix: str, delays: Sequence[float]) -> list[str]:
    """The callers' numbers: prefix + the answer delay in tenths (2 digits) + the call's index (3 digits),
    e.g. ``8135007`` — unique per call, and read by the operator's phone (acd_agent.xml) as its delay."""
    if len(delays) > 999:
        raise ValueError("at most 999 calls per system")
    out = []
    for index, delay in enumerate(delays, start=1):
        tenths = round(delay * 10)
        if not 10 <= tenths <= 99:
            raise ValueError(f"answer delay {delay} s is outside 1.0-9.9 s")
        out.append(f"{prefix}{tenths:02d}{index:03d}")
    return out


def injection_file(numbers: Sequence[str]) -> str:
    """A SIPp ``-inf`` file that gives call n the n-th number as ``[field0]``."""
    return "SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers)


def system_offers(offers: Sequence[Offer], system: str) -> list[Offer]:
    """The rings that belong to one system's callers (by the caller-number prefix)."""
    return [o for o in offers if o.caller.startswith(PREFIXES[system])]


def parse_systems(text: str) -> tuple[str, ...]:
    systems = tuple(s.strip() for s in text.split(",") if s.strip())
    if not systems or any(s not in SYSTEMS for s in systems) or len(set(systems)) != len(systems):
        raise ValueError(f"--systems names {' and/or '.join(SYSTEMS)}, each once; got {text!r}")
    return systems


# --- the run -----------------------------------------------------------------------------------
@dataclass
class Phone:
    agent_id: str
    uas: SippProcess
    trace: Path


@dataclass(frozen=True)
class Plan:
    systems: tuple[str, ...]
    calls: int
    rate: float
    talk_s: float
    delays: tuple[float, ...]  # per call, in order; the same for every system


@dataclass(frozen=True)
class CallerRun:
    """One system's callers as SIPp counted them, and the CPU Asterisk and the controller used meanwhile."""

    successful: int
    failed: int
    wall_s: float
    cpu_s: dict[str, float]


class AcdBench:
    def __init__(
        self,
        pbx: TestPbx,
        controller: ControllerProcess,
        config: AcdConfig,
        workdir: Path,
        *,
        registrar: str | None = None,
    ) -> None:
        self.pbx = pbx
        self.controller = controller
        self.config = config
        self.workdir = workdir
        self.registrar = registrar or pbx.sip_target  # HOST:PORT the phones register at (or Kamailio's)
        self.phones: list[Phone] = []

    async def start_phones(self, plan: Plan, budget_s: float) -> None:
        for agent in self.config.agents:
            port = free_udp_port()
            log_dir = self.workdir / "phones" / agent.id
            uas = await start_sipp(
                AGENT_SCENARIO,
                local_port=port,
                calls=100_000,
                timeout_s=budget_s,
                keys={"talk_ms": str(round(plan.talk_s * 1000))},
                log_dir=log_dir,
            )
            self.phones.append(Phone(agent.id, uas, log_dir / "messages.log"))
            await asyncio.sleep(0.3)
            if not uas.running:
                raise BenchError(
                    f"operator {agent.id}'s phone (SIPp) exited:\n{(await uas.wait()).describe()}"
                )
            reg = await run_sipp(
                "register",
                self.registrar,
                service=agent.id,
                auth=(agent.id, agent.secret),
                keys={"contact_host": "127.0.0.1", "contact_port": str(port), "expires": "3600"},
                timeout_s=15,
            )
            if not reg.ok:
                raise BenchError(f"operator {agent.id} did not register:\n{reg.describe()}")

    async def all_available(self, within_s: float = 60.0, *, registered: bool = True) -> None:
        """Wait until every operator is available (and, with ``registered``, its phone registered here:
        phones registered at a Kamailio in front are not seen by Asterisk)."""
        ids = {a.id for a in self.config.agents}
        deadline = time.monotonic() + within_s
        body: object = None
        while time.monotonic() < deadline:
            status, body = await asyncio.to_thread(self.controller.get, "/api/agents")
            if status == 200 and isinstance(body, list):
                ready = {
                    a["id"]
                    for a in body
                    if (a.get("registered") or not registered) and a.get("state") == "available"
                }
                if ids <= ready:
                    return
            await asyncio.sleep(0.5)
        raise BenchError(f"operators not all registered and available within {within_s:g} s: {body}")

    async def run_system(self, system: str, plan: Plan, echo: Callable[[str], None]) -> CallerRun:
        """Place one system's callers and wait until every one is served (or gives up)."""
        asterisk = self.pbx.pbx.pid
        if asterisk is None or self.controller.proc is None:
            raise BenchError("Asterisk or the controller is not running any more")
        probe = CpuProbe({"asterisk": asterisk, "controller": self.controller.proc.pid})
        numbers = self.workdir / f"callers-{system}.csv"
        numbers.write_text(injection_file(call_numbers(PREFIXES[system], plan.delays)))
        started = time.monotonic()
        wait_s = 240.0
        sipp = await start_sipp(
            CALLER_SCENARIO,
            self.pbx.sip_target,
            service=SERVICES[system],
            keys={"display": f"bench {system}"},
            extra_args=["-inf", str(numbers)],
            calls=plan.calls,
            rate=plan.rate,
            limit=plan.calls,
            timeout_s=plan.calls / plan.rate + wait_s + 60,
            recv_timeout_s=wait_s,
            log_dir=self.workdir / f"callers-{system}",
        )
        try:
            last_echo = 0.0
            while sipp.running:
                await asyncio.sleep(1.0)
                probe.sample()
                if time.monotonic() - last_echo >= 15:
                    last_echo = time.monotonic()
                    echo(f"  {LABELS[system]}: {time.monotonic() - started:.0f} s")
            result = await sipp.wait()
        except BaseException:
            await sipp.stop()
            raise
        probe.sample()
        wall = time.monotonic() - started
        if result.successful == 0:
            raise BenchError(f"{LABELS[system]}: no caller was served\n{result.describe()}")
        return CallerRun(result.successful, result.failed, wall, probe.cpu_seconds())

    async def stop_phones(self) -> None:
        for phone in self.phones:
            with contextlib.suppress(Exception):
                await phone.uas.stop()

    def offers(self) -> list[Offer]:
        out: list[Offer] = []
        for phone in self.phones:
            with contextlib.suppress(OSError):
                out += agent_offers(phone.agent_id, parse_messages(phone.trace.read_text(errors="replace")))
        return out

    def phase(self, system: str, plan: Plan, run: CallerRun) -> Phase:
        trace = self.workdir / f"callers-{system}" / "messages.log"
        entered = caller_entries(parse_messages(trace.read_text(errors="replace")))
        mine = system_offers(self.offers(), system)
        by_agent: dict[str, list[Offer]] = {}
        for offer in mine:
            by_agent.setdefault(offer.agent, []).append(offer)
        wrapup = self.config.queues[QUEUE].wrapup_s
        measured = figures(by_agent, entered, wrapup)
        return Phase(system, plan.calls, run.successful, run.failed, run.wall_s, run.cpu_s, measured)


async def _run(bench: AcdBench, plan: Plan, echo: Callable[[str], None]) -> list[Phase]:
    budget = len(plan.systems) * (plan.calls / plan.rate + 400) + 120
    wrapup = bench.config.queues[QUEUE].wrapup_s
    outcomes: dict[str, CallerRun] = {}
    try:
        echo(f"registering {len(bench.config.agents)} operator phones …")
        await bench.start_phones(plan, budget)
        await bench.all_available()
        for system in plan.systems:
            await asyncio.sleep(wrapup + 2.0)  # the previous system's last wrap-ups are over
            await bench.all_available()
            echo(f"{LABELS[system]}: {plan.calls} callers at {plan.rate:g}/s …")
            run = outcomes[system] = await bench.run_system(system, plan, echo)
            echo(f"  {LABELS[system]}: ok {run.successful}, failed {run.failed}, {run.wall_s:.0f} s")
        await asyncio.sleep(1.0)
    finally:
        await bench.stop_phones()  # by pid; also flushes and closes their traces
    return [bench.phase(system, plan, outcomes[system]) for system in plan.systems]


def router_figures() -> str:
    """``python -m bench.router`` as printed (the router alone, no Asterisk)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.router"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.stdout if done.returncode == 0 else f"bench.router failed ({done.returncode}):\n{done.stderr}"


def check_app_queue_twin(config: AcdConfig) -> list[str]:
    """Where ``queues.conf [bench-queue]`` differs from our ``bench`` queue and operators."""
    conf = queue_conf(QUEUES_CONF.read_text(), APP_QUEUE)
    queue = config.queues[QUEUE]
    problems = []
    if conf.get("wrapuptime") != [f"{queue.wrapup_s:g}"]:
        problems.append(f"wrapuptime {conf.get('wrapuptime')} ≠ wrapup {queue.wrapup_s:g}")
    if conf.get("timeout") != [f"{queue.ring_timeout_s:g}"]:
        problems.append(f"timeout {conf.get('timeout')} ≠ ring_timeout {queue.ring_timeout_s:g}")
    members = conf.get("member", [])
    wanted = [f"PJSIP/{a.id}" for a in config.agents]
    if members != wanted:
        problems.append(f"members {members} ≠ operators {wanted}")
    return problems


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.acd", description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=CALLS, help=f"callers per system (default {CALLS})")
    parser.add_argument("--rate", type=float, default=RATE, help=f"callers per second (default {RATE:g})")
    parser.add_argument("--talk", type=float, default=TALK_S, help=f"talk time, s (default {TALK_S:g})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"answer delays' seed (default {SEED})")
    parser.add_argument(
        "--systems", default=",".join(SYSTEMS), help="which ACDs, in order (default acd,app_queue)"
    )
    parser.add_argument("--output", type=Path, help="Markdown file (default docs/benchmarks.md)")
    parser.add_argument("--no-output", action="store_true", help="write no Markdown")
    parser.add_argument("--no-router", action="store_true", help="skip python -m bench.router")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (traces, logs)")
    return parser.parse_args(argv)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _echo(line: str) -> None:
    print(line, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    raw_args = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw_args)
    try:
        systems = parse_systems(args.systems)
        if not 1 <= args.calls <= 999 or args.rate <= 0 or args.talk < 0:
            raise ValueError("--calls 1-999, --rate > 0, --talk ≥ 0")
    except ValueError as exc:
        print(f"bench.acd: {exc}", file=sys.stderr)
        return 2
    config, errors = load_acd(AGENTS_FILE, QUEUES_FILE)
    if config is None:
        print("bench.acd: " + "\n".join(map(str, errors)), file=sys.stderr)
        return 1
    twin = check_app_queue_twin(config)
    if twin:
        print("bench.acd: app_queue is not configured like our queue: " + "; ".join(twin), file=sys.stderr)
        return 1
    plan = Plan(systems, args.calls, args.rate, args.talk, tuple(answer_delays(args.calls, args.seed)))
    output = None if args.no_output else (args.output or DOCS_PATH)
    command = shlex.join(["python", "-m", "bench.acd", *raw_args])
    echo = _echo

    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-acd-"))
    pbx: TestPbx | None = None
    controller: ControllerProcess | None = None
    bench: AcdBench | None = None
    try:
        echo(f"work directory {workdir}; starting Asterisk …")
        pbx = start_bench_pbx(workdir / "data", max_calls=plan.calls + len(config.agents) + 10)
        controller = ControllerProcess(
            env={
                **pbx.env,
                "IVR_AGENTS_FILE": str(AGENTS_FILE),
                "IVR_QUEUES_FILE": str(QUEUES_FILE),
                "IVR_FLOWS_DIR": str(FLOWS_DIR),
                "IVR_AUTO_LOGIN": "true",
                "IVR_RING_CYCLE_S": f"{RING_CYCLE_S:g}",
            },
            log_path=workdir / "controller.log",
        )
        echo("starting the controller …")
        controller.start(wait_s=90.0)
        bench = AcdBench(pbx, controller, config, workdir)
        phases = asyncio.run(_run(bench, plan, echo))
        router = "" if args.no_router else router_figures()
        queue = config.queues[QUEUE]
        nproc, model = machine()
        info = AcdRunInfo(
            command=command,
            date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            nproc=nproc,
            cpu_model=model,
            agents=len(config.agents),
            answer_delays_s=plan.delays,
            seed=args.seed,
            talk_s=plan.talk_s,
            wrapup_s=queue.wrapup_s,
            ring_timeout_s=queue.ring_timeout_s,
            ring_cycle_s=RING_CYCLE_S,
            target_rings=queue.target_rings,
            calls=plan.calls,
            rate=plan.rate,
            router_output=router,
        )
        echo("")
        echo(text_table(phases, RING_CYCLE_S * queue.target_rings, queue.wrapup_s))
        for line in summary_lines(phases, RING_CYCLE_S * queue.target_rings):
            echo(line)
        if router:
            echo("\n" + router.rstrip())
        if output is not None:
            document = output.read_text() if output.exists() else "# Benchmarks\n"
            output.write_text(replace_section(document, markdown_section(info, phases)))
            echo(f"\nwrote {output}")
        return 0
    except (BenchError, SippError, RuntimeError, TimeoutError) as exc:
        print(f"bench.acd: {exc}", file=sys.stderr)
        if controller is not None:
            print("--- controller log ---\n" + controller.log_tail(30), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench.acd: interrupted; stopping what was started", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_stack(
            "bench.acd",
            controller.stop if controller is not None else None,
            pbx,
            workdir,
            keep=args.keep,
            echo=echo,
        )
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
