"""Scale-out: the same SIPp load against one node and against two nodes behind Kamailio.

``python -m bench.cluster`` (``make bench-cluster``; small defaults, a few minutes) starts one private
PostgreSQL and two Asterisks (like tests/integration/test_two_nodes.py), then runs the load twice, each
time with a fresh database and a Kamailio in front: first with node 1 only, then with both nodes
(round-robin). The operators' SIPp phones (``bench/load_site``) register at Kamailio; callers walk the
shop flow: some reach the ``orders`` queue, the others only the IVR (``bench/load_plan.py`` kinds).
After each run: SIPp = CDR of every node = calls in PostgreSQL with their outcomes, no agent with two
overlapping offers, calls per node, dispatch latency and PostgreSQL writes per call. Any failure exits 1
with the ids. Writes the "Scale-out" section of docs/benchmarks.md unless ``--no-output``. Everything it
starts is stopped by pid.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from acd.config import load_acd
from acd.model import AcdConfig
from bench.acd import AcdBench, BenchError, Plan
from bench.acd_report import replace_section
from bench.acd_trace import pct
from bench.capacity import machine
from bench.cluster_checks import (
    PgCounters,
    calls_per_node,
    describe_overlap,
    dispatch_latencies,
    kinds_per_node,
    node_problems,
    overlapping_offers,
    rung,
    writes_per_call,
)
from bench.cluster_report import SECTION, ClusterInfo, RunFigures, markdown_section, text_report
from bench.cluster_store import PgStore
from bench.load import LoadRun, wait_prompts
from bench.load_plan import KINDS, KindPlan, kind_of, plan_mix
from bench.reconcile import SippCount, StoreCall, caller_legs, cdr_rows
from bench.stack import BENCH_APP, stop_stack
from ivr.cluster.kamailio import Kamailio, KamailioError, find_kamailio
from ivr.cluster.kamailio_conf import KamailioSettings
from ivr.cluster.kamailio_conf import Node as KamailioNode
from ivr.cluster.operators import operators_from_agents_file
from ivr.testing.postgres import PostgresCluster
from ivr.testing.prompt_cache import copy_new, default_cache
from ivr.testing.sipp import SippError, free_udp_port
from ivr.testing.stack import ControllerProcess, TestPbx, rtp_ports_for, start_test_pbx

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DOCS_PATH = PROJECT_ROOT / "docs" / "benchmarks.md"
SITE = Path(__file__).resolve().parent / "load_site"
AGENTS_FILE, QUEUES_FILE = SITE / "agents.yaml", SITE / "queues.yaml"
RATE, DURATION_S, TALK_S, SEED = 1.0, 60.0, 3.0, 11
ANSWER_S = (1.0, 4.0)
IDLE_S = 20.0  # the idle cluster's PostgreSQL rate is measured this long before the calls
STATS_FLUSH_S = 11.0  # a busy backend reports its counters at most this late (PostgreSQL 15: 10 s)
# Unequal shares: two SIPp streams at one rate would alternate in lockstep, and round-robin would then send
# every queue caller to one node and every IVR-only caller to the other.
QUEUE_KIND = dataclasses.replace(next(k for k in KINDS if k.with_agent), share=0.4)
IVR_KIND = dataclasses.replace(next(k for k in KINDS if k.name == "status"), share=0.6)
MIX = (QUEUE_KIND, IVR_KIND)


@dataclasses.dataclass
class ClusterNode:
    pbx: TestPbx
    controller: ControllerProcess | None = None

    @property
    def name(self) -> str:
        return self.pbx.config.name

    @property
    def cdr_path(self) -> Path:
        return self.pbx.pbx.log_dir / "cdr-csv" / "Master.csv"

    def cdr_text(self) -> str:
        try:
            return self.cdr_path.read_text(errors="replace")
        except OSError:
            return ""

    def running(self) -> ControllerProcess:
        if self.controller is None or self.controller.proc is None:
            raise BenchError(f"node {self.name}: the controller is not running")
        return self.controller


class ClusterRun(LoadRun):
    """``LoadRun`` over several nodes: callers enter at Kamailio, the store is PostgreSQL, the CDR is
    every node's."""

    def __init__(
        self, nodes: Sequence[ClusterNode], store: PgStore, kamailio: Kamailio, workdir: Path
    ) -> None:
        super().__init__(nodes[0].pbx, nodes[0].running(), workdir)
        self.nodes = list(nodes)
        self.store = store
        self.kamailio = kamailio
        self.target = kamailio.address

    def roots(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for node in self.nodes:
            asterisk = node.pbx.pbx.pid
            if asterisk is None:
                raise BenchError(f"node {node.name}: Asterisk is not running any more")
            out[f"asterisk {node.name}"] = asterisk
            proc = node.running().proc
            assert proc is not None
            out[f"controller {node.name}"] = proc.pid
        for name, pid in (("kamailio", self.kamailio.pid), ("postgres", self.store.cluster.pid)):
            if pid is not None:
                out[name] = pid
        return out

    def store_calls(self) -> list[StoreCall]:
        return self.store.calls()

    def cdr_text(self) -> str:
        return "".join(node.cdr_text() for node in self.nodes)


def start_nodes(workdir: Path, count: int, max_calls: int, proxy: str, run: int) -> list[ClusterNode]:
    """``count`` fresh Asterisks (per run: a call left over cannot leak into the next run) that ring
    operators through the Kamailio at ``proxy``, started one after the other (two starts in one process
    race on ivr/pbx/root.py's ``.hosts.<pid>.tmp``); the ones started are stopped by pid if one fails."""
    nodes: list[ClusterNode] = []
    try:
        for i in range(1, count + 1):
            name = f"r{run}n{i}x{os.getpid() % 100000}"
            pbx = start_test_pbx(
                workdir / name, name=name, app=BENCH_APP, rtp_ports=rtp_ports_for(max_calls), sip_proxy=proxy
            )
            nodes.append(ClusterNode(pbx))
    except BaseException:
        for node in nodes:
            node.pbx.stop()
        raise
    return nodes


# --- one run ------------------------------------------------------------------------------------
@dataclasses.dataclass
class Settings:
    """What every run shares."""

    pg: PostgresCluster
    kamailio_port: int
    config: AcdConfig
    plans: list[KindPlan]
    duration_s: float
    talk_s: float
    workdir: Path


@dataclasses.dataclass
class Measured:
    run: ClusterRun
    counts: dict[str, SippCount]
    peak_open: int
    cpu_cores: dict[str, float]
    idle: tuple[float, float]  # monotonic: the idle window's start and end (= the calls' start)
    idle_counters: tuple[PgCounters, PgCounters]
    reads_before_calls: int
    wall_s: float


def start_controllers(nodes: Sequence[ClusterNode], url: str, flows: Path, logs: Path) -> None:
    """One controller per node on the run's database, one after the other (the first one migrates it)."""
    cache = default_cache()
    for node in nodes:
        node.controller = ControllerProcess(
            env={
                **node.pbx.env,
                "IVR_NODE": node.name,
                "IVR_DB_URL": url,
                "IVR_AGENTS_FILE": str(AGENTS_FILE),
                "IVR_QUEUES_FILE": str(QUEUES_FILE),
                "IVR_FLOWS_DIR": str(flows),
                "IVR_HOURS_OVERRIDE": "open",
                "IVR_LOG_LEVEL": "DEBUG",  # a failed call is explained by the kept log
            },
            log_path=logs / f"controller-{node.name}.log",
        )
        node.controller.start(wait_s=90.0)
    for node in nodes:
        wait_prompts(node.running(), _echo)
        copy_new(node.pbx.pbx.sounds_dir, cache)


def stop_nodes(nodes: Sequence[ClusterNode], workdir: Path) -> None:
    """Controllers, then each Asterisk, by pid (once: a node stopped is skipped); its logs copied to
    ``workdir/logs/<node>``."""
    stop_controllers(nodes)
    for node in nodes:
        if node.pbx.pbx.pid is not None:
            stop_stack(
                "bench.cluster", None, node.pbx, workdir / "logs" / node.name, keep=True, echo=lambda _: None
            )


def stop_controllers(nodes: Sequence[ClusterNode]) -> None:
    for node in nodes:
        controller, node.controller = node.controller, None
        if controller is not None:
            controller.stop()


async def _measure(
    nodes: Sequence[ClusterNode], store: PgStore, s: Settings, runs_dir: Path, echo: Callable[[str], None]
) -> Measured:
    agents = s.config.agents
    kamailio = Kamailio(
        KamailioSettings(
            nodes=tuple(KamailioNode("127.0.0.1", n.pbx.config.sip_port) for n in nodes),
            operators=operators_from_agents_file(AGENTS_FILE),
            listen_port=s.kamailio_port,
            algorithm="round-robin",
        ),
        runs_dir / "kamailio",
    )
    await kamailio.start()
    try:
        run = ClusterRun(nodes, store, kamailio, runs_dir)
        phones = AcdBench(nodes[0].pbx, nodes[0].running(), s.config, runs_dir, registrar=kamailio.address)
        try:
            echo(f"registering {len(agents)} operator phones at Kamailio {kamailio.address} …")
            await phones.start_phones(Plan((), 0, 1.0, s.talk_s, ()), s.duration_s + 900)
            setter = nodes[-1].running()  # set on the last node: the others learn it through PostgreSQL
            for agent in agents:
                status, body = await asyncio.to_thread(
                    setter.post, f"/api/agents/{agent.id}/state", {"state": "available"}
                )
                if status != 200:
                    raise BenchError(f"operator {agent.id}: state not set ({status}: {body})")
            for node in nodes:
                await AcdBench(node.pbx, node.running(), s.config, runs_dir).all_available(registered=False)
            echo(f"measuring the idle cluster's PostgreSQL rate ({STATS_FLUSH_S + IDLE_S:.0f} s) …")
            await asyncio.sleep(STATS_FLUSH_S)
            idle_start, c0 = time.monotonic(), store.counters()
            await asyncio.sleep(IDLE_S)
            calls_start, c1 = time.monotonic(), store.counters()
            reads = store.reads
            echo(", ".join(f"{p.kind.name} {p.calls} at {p.rate:.2f}/s" for p in s.plans) + " …")
            callers = await run.start_callers(s.plans, s.duration_s)
            try:
                sampled = await run.sample_until_done(callers, echo)
                results = {name: await sipp.wait() for name, sipp in callers.items()}
            except BaseException:
                for sipp in callers.values():
                    await sipp.stop()
                raise
            wall = time.monotonic() - calls_start
        finally:
            await phones.stop_phones()
    finally:
        await kamailio.stop()
    counts = {name: SippCount(r.successful, r.failed) for name, r in results.items()}
    for name, result in results.items():
        if not result.ok:
            echo(f"  {name}: {result.describe().splitlines()[0]}")
    cpu = {name: _mean([c.get(name, 0.0) for c in sampled.cpu]) for name in (sampled.cpu or [{}])[0]}
    return Measured(
        run, counts, max(sampled.open_calls, default=0), cpu, (idle_start, calls_start), (c0, c1), reads, wall
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def run_once(
    label: str, nodes: Sequence[ClusterNode], s: Settings, echo: Callable[[str], None]
) -> RunFigures:
    """One run against ``nodes`` behind Kamailio, on a fresh database; its figures and checks."""
    slug = f"{len(nodes)}node-{nodes[0].name}"
    runs_dir = s.workdir / slug
    (runs_dir / "flows").mkdir(parents=True)  # empty: the default flow (shop) answers
    database = f"bench_cluster_{slug.replace('-', '_')}"
    url = s.pg.create_database(database)
    store = PgStore(s.pg, database)
    names = [n.name for n in nodes]
    fig = RunFigures(label, names, placed=sum(p.calls for p in s.plans))
    try:
        echo(f"{label}: starting the controllers of {', '.join(names)} on database {database} …")
        start_controllers(nodes, url, runs_dir / "flows", runs_dir)
        measured = asyncio.run(_measure(nodes, store, s, runs_dir, echo))
        echo("reconciling SIPp, the nodes' CDR and PostgreSQL …")
        rec = asyncio.run(measured.run.settle_and_reconcile(s.plans, measured.counts))
        for node in nodes:
            status, body = node.running().get("/api/stats")
            if status == 200 and isinstance(body, dict):
                fig.event_to_command[node.name] = (
                    body.get("event_to_command_p50_ms"),
                    body.get("event_to_command_p99_ms"),
                    int(body.get("latency_samples") or 0),
                )
        calls = [c for c in store.calls() if kind_of(c.caller_number, MIX) is not None]
        queued = store.queued_at()
        offers = store.offers()
        reads = store.reads - measured.reads_before_calls
        stop_controllers(nodes)  # their backends exit and flush their counters
        time.sleep(2.0)
        c2, calls_end = store.counters(), time.monotonic()
        fig.rows_by_table = store.rows_by_table()  # after c2: this read is not counted in it
    finally:
        stop_controllers(nodes)
    fig.sipp_ok = sum(c.successful for c in measured.counts.values())
    failed = sum(c.failed for c in measured.counts.values())
    fig.sipp_failed = failed + max(0, fig.placed - fig.sipp_ok - failed)  # never finished: failed too
    fig.wall_s, fig.peak_open, fig.cpu_cores = measured.wall_s, measured.peak_open, measured.cpu_cores
    fig.store_per_node = calls_per_node(calls, names)
    fig.kinds_per_node = kinds_per_node(calls, names, MIX)
    legs = {
        n.name: {u: leg for u, leg in caller_legs(cdr_rows(n.cdr_text())).items() if kind_of(leg.src, MIX)}
        for n in nodes
    }
    fig.cdr_per_node = {name: len(node_legs) for name, node_legs in legs.items()}
    fig.problems = rec.problems + node_problems(legs, calls)
    fig.overlaps = [describe_overlap(pair) for pair in overlapping_offers(offers)]
    fig.offers_rung = len(rung(offers))
    fig.lost_races = len(offers) - fig.offers_rung
    latencies = [v * 1000 for v in dispatch_latencies(queued, offers)]
    fig.queued = len(latencies)
    fig.dispatch_p50_ms, fig.dispatch_p99_ms = pct(latencies, 50), pct(latencies, 99)
    c0, c1 = measured.idle_counters
    idle_start, calls_start = measured.idle
    if fig.sipp_ok > 0:
        fig.writes = writes_per_call(
            c1.minus(c0), calls_start - idle_start, c2.minus(c1), calls_end - calls_start, fig.sipp_ok, reads
        )
    return fig


# --- command line -------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=RATE, help=f"calls per second (default {RATE:g})")
    parser.add_argument(
        "--duration",
        type=float,
        default=DURATION_S,
        help=f"seconds of arrivals per run (default {DURATION_S:g})",
    )
    parser.add_argument(
        "--talk", type=float, default=TALK_S, help=f"operators' talk time, s (default {TALK_S:g})"
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"answer delays' seed (default {SEED})")
    parser.add_argument("--nodes", default="1,2", help="the runs, by node count, in order (default 1,2)")
    parser.add_argument("--output", type=Path, help="Markdown file (default docs/benchmarks.md)")
    parser.add_argument("--no-output", action="store_true", help="write no Markdown")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (traces, logs)")
    return parser.parse_args(argv)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _echo(line: str) -> None:
    print(line, flush=True)


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _mix_text(plans: Sequence[KindPlan]) -> str:
    return ", ".join(
        f"{p.calls} `{p.kind.name}` callers (keys {' '.join(str(x) for x in p.kind.steps)} "
        f"→ `{p.kind.outcome}`" + (", queue `orders`)" if p.kind.with_agent else ", IVR only)")
        for p in plans
    )


def main(argv: Sequence[str] | None = None) -> int:
    raw_args = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(raw_args)
    try:
        runs = [int(n) for n in args.nodes.split(",")]
        if not runs or any(n not in (1, 2) for n in runs) or args.rate <= 0 or args.duration <= 0:
            raise ValueError
    except ValueError:
        print("bench.cluster: --nodes lists 1 and/or 2; --rate and --duration must be > 0", file=sys.stderr)
        return 2
    try:
        find_kamailio()
    except KamailioError as exc:
        print(f"bench.cluster: {exc}", file=sys.stderr)
        return 1
    config, errors = load_acd(AGENTS_FILE, QUEUES_FILE)
    if config is None:
        print("bench.cluster: " + "\n".join(map(str, errors)), file=sys.stderr)
        return 1
    plans = plan_mix(args.rate, args.duration, seed=args.seed, kinds=MIX, answer_s=ANSWER_S)
    output = None if args.no_output else (args.output or DOCS_PATH)
    nproc, model = machine()
    load_before = _load()
    echo = _echo
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="ivr-bench-cluster-"))
    pg: PostgresCluster | None = None
    nodes: list[ClusterNode] = []
    figures: list[RunFigures] = []
    try:
        echo(f"work directory {workdir}; starting PostgreSQL …")
        pg = PostgresCluster().start()  # in its own temp dir, which the postgres user can enter
        kamailio_port = free_udp_port()
        max_calls = round(args.rate * 120) + len(config.agents) + 20
        settings = Settings(pg, kamailio_port, config, plans, args.duration, args.talk, workdir)
        for index, count in enumerate(runs, start=1):
            label = "one node" if count == 1 else "two nodes"
            echo(f"{label}: starting {count} Asterisk(s) …")
            nodes = start_nodes(workdir, count, max_calls, f"127.0.0.1:{kamailio_port}", index)
            try:
                figures.append(run_once(label, nodes, settings, echo))
            finally:
                stop_nodes(nodes, workdir)
            echo(f"{label}: {'OK' if figures[-1].ok else 'FAILED'} (load average {_load()})")
        echo("")
        echo(text_report(figures))
        if output is not None:
            info = ClusterInfo(
                command=shlex.join(["python", "-m", "bench.cluster", *raw_args]),
                date=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                machine=f"{nproc} cores, {model}",
                load_before=load_before,
                load_after=_load(),
                rate=args.rate,
                duration_s=args.duration,
                agents=len(config.agents),
                answer_s=ANSWER_S,
                talk_s=args.talk,
                mix=_mix_text(plans),
            )
            document = output.read_text() if output.exists() else "# Benchmarks\n"
            output.write_text(replace_section(document, markdown_section(info, figures), SECTION))
            echo(f"\nwrote {output}")
        failed = [f for f in figures if not f.ok]
        for fig in failed:
            print(f"bench.cluster: {fig.label} FAILED", file=sys.stderr)
            for line in fig.overlaps + fig.problems:
                print(f"  {line}", file=sys.stderr)
        return 1 if failed else 0
    except (BenchError, SippError, OSError, RuntimeError, TimeoutError, KamailioError) as exc:
        print(f"bench.cluster: {exc}", file=sys.stderr)
        for node in nodes:
            if node.controller is not None:
                print(f"--- controller {node.name} ---\n" + node.controller.log_tail(30), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench.cluster: interrupted; stopping what was started", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_nodes(nodes, workdir)
        if pg is not None:
            pg.stop()
        if args.keep or len(figures) < len(runs) or any(not f.ok for f in figures):  # failed: keep the logs
            echo(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    raise SystemExit(main())
