"""``ivr cluster up`` (``make cluster``): a two-node cluster on this one machine, to try scale-out.

What it starts, all in ``var/cluster/`` (kept between runs) and on 127.0.0.1 only:

- a private **PostgreSQL** (``pg/``, port 55432) with the database ``ivr`` both nodes share;
- **two nodes**, ``n1`` and ``n2``: each is ``ivr up --node nX`` (its own Asterisk instance ``nX`` and a
  supervised controller) with its own data directory (``n1/``, ``n2/``) and ports — SIP 5071/5072, ARI
  8091/8092, web 8081/8082, RTP 20000-20499/20500-20999 — and one set of operators
  (``agents.yaml``, a copy of the demo agents made on the first run);
- **Kamailio** on SIP 5060 (``kamailio/``): the front door callers dial (round-robin over the nodes,
  OPTIONS every second, failover) and the registrar the operators' phones register at.

Ctrl-C (or SIGTERM) stops what it started, by pid: Kamailio, then each node (SIGINT: its controller and
its Asterisk stop), then PostgreSQL. Each node's output is in ``nX/up.log``.

The plan (names, ports, environments) is pure (``cluster_plan``, ``node_env``); the rest runs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ivr.cluster.kamailio import Kamailio
from ivr.cluster.kamailio_conf import KamailioSettings, Node
from ivr.cluster.kamailio_db import kamailio_db_url, usrloc_schema
from ivr.cluster.operators import operators_from_agents_file
from ivr.cluster.postgres import ROLE, PostgresCluster
from ivr.settings import PROJECT_ROOT

DEMO_AGENTS = PROJECT_ROOT / "acd" / "defaults" / "agents.yaml"
DATABASE = "ivr"
NODE_START_S = 600.0
"""Longest wait for a node's web to answer (a first start synthesises the prompts)."""


@dataclass(frozen=True)
class NodePlan:
    name: str
    data_dir: Path
    sip_port: int
    ari_port: int
    http_port: int
    rtp: tuple[int, int]


@dataclass(frozen=True)
class ClusterPlan:
    base_dir: Path
    pg_port: int
    kamailio_port: int
    nodes: tuple[NodePlan, ...]

    @property
    def agents_file(self) -> Path:
        return self.base_dir / "agents.yaml"

    def db_url(self) -> str:
        return f"postgresql+asyncpg://ivr@127.0.0.1:{self.pg_port}/{DATABASE}"

    def ports(self) -> list[tuple[str, int]]:
        """Every port it binds ("udp"/"tcp", port), RTP ranges left out."""
        found = [("tcp", self.pg_port), ("udp", self.kamailio_port)]
        for n in self.nodes:
            found += [("udp", n.sip_port), ("tcp", n.ari_port), ("tcp", n.http_port)]
        return found


def cluster_plan(
    base_dir: Path,
    *,
    nodes: int = 2,
    pg_port: int = 55432,
    kamailio_port: int = 5060,
    sip_base: int = 5070,
    ari_base: int = 8090,
    http_base: int = 8080,
    rtp_base: int = 20000,
    rtp_size: int = 500,
) -> ClusterPlan:
    """Node ``i`` (1-based) is ``n<i>`` on ``<base> + i`` for SIP, ARI and web; RTP in its own range."""
    if not 1 <= nodes <= 9:
        raise ValueError("1 to 9 nodes")
    plans = tuple(
        NodePlan(
            name=f"n{i}",
            data_dir=base_dir / f"n{i}",
            sip_port=sip_base + i,
            ari_port=ari_base + i,
            http_port=http_base + i,
            rtp=(rtp_base + (i - 1) * rtp_size, rtp_base + i * rtp_size - 1),
        )
        for i in range(1, nodes + 1)
    )
    plan = ClusterPlan(base_dir, pg_port, kamailio_port, plans)
    ports = plan.ports()
    if len(set(ports)) != len(ports):
        raise ValueError(f"two services on one port: {sorted(ports)}")
    return plan


def node_env(plan: ClusterPlan, node: NodePlan, base: dict[str, str]) -> dict[str, str]:
    """The environment of ``ivr up --node <name>`` for ``node`` (over ``base``, e.g. ``os.environ``)."""
    return {
        **base,
        "IVR_NODE": node.name,
        "IVR_PBX_NAME": node.name,
        "IVR_DATA_DIR": str(node.data_dir),
        "IVR_SIP_PORT": str(node.sip_port),
        "IVR_ARI_PORT": str(node.ari_port),
        "IVR_HTTP_PORT": str(node.http_port),
        "IVR_RTP_START": str(node.rtp[0]),
        "IVR_RTP_END": str(node.rtp[1]),
        "IVR_DB_URL": plan.db_url(),
        "IVR_SIP_PROXY": f"127.0.0.1:{plan.kamailio_port}",
        "IVR_AGENTS_FILE": str(plan.agents_file),
        "PYTHONUNBUFFERED": "1",
    }


def busy_ports(plan: ClusterPlan) -> list[str]:
    """The ports of ``plan`` something else already holds on 127.0.0.1."""
    busy = []
    for proto, port in plan.ports():
        kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                busy.append(f"{proto} {port}")
    return busy


def traversable_by_postgres(path: Path) -> None:
    """As root, PostgreSQL runs as the ``postgres`` user, which must reach its directory: a data
    directory made private (0700, like ``var/`` by ``make up``) gets the traverse bit for others (no
    listing; the secrets in it are 0600 files). Only ``path`` and its parents inside this project."""
    if os.geteuid() != 0:
        return
    for d in (path, *path.parents):
        if d == PROJECT_ROOT or PROJECT_ROOT not in d.parents:
            break
        mode = d.stat().st_mode
        if not mode & 0o001:
            d.chmod((mode & 0o7777) | 0o001)


def register(sub: Any) -> None:
    cluster = sub.add_parser("cluster", help="a cluster of nodes on this machine (make cluster)")
    actions = cluster.add_subparsers(dest="cluster_command", required=True, metavar="ACTION")
    up = actions.add_parser(
        "up",
        help="PostgreSQL, two nodes (Asterisk + controller each) and Kamailio in front, in var/cluster "
        "(foreground; Ctrl-C stops all)",
    )
    up.add_argument(
        "--dir", type=Path, default=PROJECT_ROOT / "var" / "cluster", help="its data (default var/cluster)"
    )
    up.set_defaults(func=_main)


def _main(args: Any) -> int:
    try:
        return asyncio.run(_up(cluster_plan(args.dir.resolve())))
    except (RuntimeError, OSError, ValueError) as exc:  # PostgreSQL, Kamailio or a port: said in one line
        print(f"ivr cluster: error: {exc}", file=sys.stderr)
        return 2


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def _up(plan: ClusterPlan) -> int:
    if busy := busy_ports(plan):
        _say(f"ivr cluster: ports in use: {', '.join(busy)} (is a cluster or `make up` running?)")
        return 2
    plan.base_dir.mkdir(parents=True, exist_ok=True)
    traversable_by_postgres(plan.base_dir)
    if not plan.agents_file.exists():
        shutil.copy(DEMO_AGENTS, plan.agents_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pg = PostgresCluster(base_dir=plan.base_dir / "pg", port=plan.pg_port)
    nodes: list[tuple[NodePlan, subprocess.Popen[bytes], IO[bytes]]] = []
    kamailio: Kamailio | None = None
    try:
        _say(f"starting PostgreSQL on 127.0.0.1:{plan.pg_port} ({pg.base_dir})…")
        await asyncio.to_thread(pg.start)
        if DATABASE not in pg.psql("SELECT datname FROM pg_database").split():
            pg.create_database(DATABASE)
        if not pg.psql("SELECT to_regclass('public.location')", DATABASE).strip():
            pg.psql(usrloc_schema(), DATABASE)  # Kamailio's registrations live there too
        for node in plan.nodes:  # one after the other: the first one migrates the database
            node.data_dir.mkdir(parents=True, exist_ok=True)
            _say(f"starting node {node.name} (ivr up --node {node.name}; output in {node.data_dir}/up.log)…")
            proc, log = _spawn_node(plan, node)
            nodes.append((node, proc, log))
            if not await _healthy(node, proc, stop):
                return 1 if not stop.is_set() else 0
        kamailio = Kamailio(
            KamailioSettings(
                nodes=tuple(Node("127.0.0.1", n.sip_port) for n in plan.nodes),
                operators=operators_from_agents_file(plan.agents_file),
                listen_port=plan.kamailio_port,
                db_url=kamailio_db_url("127.0.0.1", plan.pg_port, DATABASE, ROLE),
            ),
            plan.base_dir / "kamailio",
        )
        await kamailio.start()
        _banner(plan, {n.name: p.pid for n, p, _ in nodes})
        while not stop.is_set():
            exited = [(n, p) for n, p, _ in nodes if p.poll() is not None]
            if exited:
                node, proc = exited[0]
                _say(f"node {node.name} exited ({proc.returncode}); see {node.data_dir / 'up.log'}")
                return 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
        return 0
    finally:
        _say("stopping the cluster…")
        if kamailio is not None:
            await kamailio.stop()
        for node, proc, log in reversed(nodes):
            await asyncio.to_thread(_stop_node, node, proc)
            log.close()
        await asyncio.to_thread(pg.stop, remove=False)
        _say("cluster stopped")


def _spawn_node(plan: ClusterPlan, node: NodePlan) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    log: IO[bytes] = (node.data_dir / "up.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivr.cli", "up", "--node", node.name],
        env=node_env(plan, node, dict(os.environ)),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches this process only; it stops the node, by its pid
    )
    return proc, log


async def _healthy(node: NodePlan, proc: subprocess.Popen[bytes], stop: asyncio.Event) -> bool:
    deadline = time.monotonic() + NODE_START_S
    url = f"http://127.0.0.1:{node.http_port}/healthz"
    while time.monotonic() < deadline and not stop.is_set():
        if proc.poll() is not None:
            _say(f"node {node.name} exited ({proc.returncode}); see {node.data_dir / 'up.log'}")
            return False
        if await asyncio.to_thread(_answers, url):
            return True
        await asyncio.sleep(0.5)
    if not stop.is_set():
        _say(
            f"node {node.name}: no answer at {url} within {NODE_START_S:g} s; see {node.data_dir / 'up.log'}"
        )
    return False


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - our own http://127.0.0.1 URL
            return int(resp.status) == 200
    except (OSError, urllib.error.URLError):
        return False


def _stop_node(node: NodePlan, proc: subprocess.Popen[bytes]) -> None:
    """SIGINT (``ivr up`` stops its controller, then its Asterisk), a second one after 30 s, then SIGKILL."""
    for sig, wait_s in ((signal.SIGINT, 30.0), (signal.SIGINT, 15.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait_s)
    if proc.poll() is None:
        _say(f"node {node.name} (pid {proc.pid}) did not stop")


def _banner(plan: ClusterPlan, pids: dict[str, int]) -> None:
    lines = [
        "",
        f"  cluster up: {len(plan.nodes)} nodes behind Kamailio, one PostgreSQL ({plan.db_url()})",
        f"  callers   dial sip:<number>@127.0.0.1:{plan.kamailio_port} (0120 the shop, 100 the echo line; "
        "Kamailio picks a node)",
        f"  phones    register at 127.0.0.1:{plan.kamailio_port} as an agent of {plan.agents_file}",
    ]
    for n in plan.nodes:
        lines.append(
            f"  node {n.name}   pid {pids.get(n.name)}, web http://127.0.0.1:{n.http_port}/login "
            f"(token in {n.data_dir / 'admin_token'}), Asterisk SIP 127.0.0.1:{n.sip_port}"
        )
    lines += [
        "  try       kill -INT <a node's pid>: that node stops, new calls go to the other, and the other "
        "closes its open call records (about 30 s)",
        "  Ctrl-C stops everything.",
        "",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)
