"""The "Scale-out: one node vs two behind Kamailio" section of docs/benchmarks.md and its console text
(pure; ``bench/cluster.py`` runs the bench)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.cluster_checks import WritesPerCall

SECTION = "## Scale-out: one node vs two behind Kamailio"


@dataclass
class RunFigures:
    """One run (one node or two) as measured; None: not measured."""

    label: str
    nodes: list[str]
    placed: int = 0
    sipp_ok: int = 0
    sipp_failed: int = 0
    wall_s: float = 0.0
    peak_open: int = 0
    store_per_node: dict[str, int] = field(default_factory=dict)
    kinds_per_node: dict[str, dict[str, int]] = field(default_factory=dict)
    rows_by_table: dict[str, int] = field(default_factory=dict)
    cdr_per_node: dict[str, int] = field(default_factory=dict)
    queued: int = 0
    dispatch_p50_ms: float | None = None
    dispatch_p99_ms: float | None = None
    event_to_command: dict[str, tuple[float | None, float | None, int]] = field(default_factory=dict)
    offers_rung: int = 0
    lost_races: int = 0
    overlaps: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    writes: WritesPerCall | None = None
    cpu_cores: dict[str, float] = field(default_factory=dict)

    def cpu_ms_per_call(self) -> dict[str, float]:
        """Each process tree's CPU over the run (mean cores × wall time) per successful call, ms."""
        if self.sipp_ok <= 0:
            return {}
        return {k: v * self.wall_s / self.sipp_ok * 1000 for k, v in self.cpu_cores.items()}

    @property
    def ok(self) -> bool:
        return not self.problems and not self.overlaps and self.sipp_failed == 0 and self.placed > 0


@dataclass(frozen=True)
class ClusterInfo:
    command: str
    date: str
    machine: str
    load_before: str
    load_after: str
    rate: float
    duration_s: float
    agents: int
    answer_s: tuple[float, float]
    talk_s: float
    mix: str


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _per_node(counts: dict[str, int]) -> str:
    return ", ".join(f"{node} {n}" for node, n in counts.items()) or "–"


def _latency(run: RunFigures) -> str:
    return "; ".join(
        f"{node} {_ms(p50)} / {_ms(p99)} ({n})" for node, (p50, p99, n) in run.event_to_command.items()
    )


def _writes(get: Callable[[WritesPerCall], float], digits: int = 1) -> Callable[[RunFigures], str]:
    return lambda r: "–" if r.writes is None else f"{get(r.writes):.{digits}f}"


ROWS: tuple[tuple[str, Callable[[RunFigures], str]], ...] = (
    ("calls placed (SIPp)", lambda r: str(r.placed)),
    ("successful / failed (SIPp)", lambda r: f"{r.sipp_ok} / {r.sipp_failed}"),
    ("calls per node (PostgreSQL)", lambda r: _per_node(r.store_per_node)),
    ("… by kind", lambda r: "; ".join(f"{n}: {_per_node(k)}" for n, k in r.kinds_per_node.items()) or "–"),
    ("CDR caller legs per node", lambda r: _per_node(r.cdr_per_node)),
    ("peak concurrent calls", lambda r: str(r.peak_open)),
    (
        "queue entry → first ring p50 / p99, ms",
        lambda r: f"{_ms(r.dispatch_p50_ms)} / {_ms(r.dispatch_p99_ms)}",
    ),
    ("queued calls offered", lambda r: str(r.queued)),
    ("event→command p50 / p99, ms (samples), per node", _latency),
    ("offers rung / lost reservation races", lambda r: f"{r.offers_rung} / {r.lost_races}"),
    ("overlapping offers (any agent)", lambda r: str(len(r.overlaps))),
    ("reconciliation SIPp = CDR = PostgreSQL", lambda r: "OK" if not r.problems else "FAILED"),
    ("PostgreSQL commits per call", _writes(lambda w: w.commits)),
    ("PostgreSQL rows written per call", _writes(lambda w: w.rows)),
    (
        "idle commits / rows per second",
        lambda r: (
            "–" if r.writes is None else f"{r.writes.idle_commits_per_s:.2f} / {r.writes.idle_rows_per_s:.2f}"
        ),
    ),
    ("mean CPU, cores", lambda r: ", ".join(f"{k} {v:.3f}" for k, v in r.cpu_cores.items()) or "–"),
    (
        "CPU per call of the run (all nodes' calls), ms",
        lambda r: ", ".join(f"{k} {v:.0f}" for k, v in r.cpu_ms_per_call().items()) or "–",
    ),
)


def table(runs: Sequence[RunFigures]) -> list[list[str]]:
    return [["", *(r.label for r in runs)], *([name, *(get(r) for r in runs)] for name, get in ROWS)]


def text_report(runs: Sequence[RunFigures]) -> str:
    rows = table(runs)
    lines = [" | ".join(row) for row in rows]
    for run in runs:
        for line in run.overlaps + run.problems:
            lines.append(f"{run.label}: {line}")
    return "\n".join(lines)


def markdown_section(info: ClusterInfo, runs: Sequence[RunFigures]) -> str:
    rows = table(runs)
    md = ["| " + " | ".join(rows[0]) + " |", "|---" * len(rows[0]) + "|"]
    md += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    verdict = (
        "every run clean"
        if all(r.ok for r in runs)
        else "FAILED: "
        + "; ".join(f"{r.label}: {(r.overlaps + r.problems + ['failed calls'])[0]}" for r in runs if not r.ok)
    )
    return f"""{SECTION}

The same SIPp load, first against **one node** (Asterisk + controller, store in PostgreSQL 15) behind
Kamailio, then against **two nodes** behind Kamailio (dispatcher round-robin), on this one machine. The
operators' SIPp phones register at Kamailio, so any node rings any operator through it; agents' states
and reservations are shared through PostgreSQL (`acd/pg_reservations.py`, `acd/pg_agent_states.py`).
Each run gets a fresh database.

Measured {info.date} with:

```
{info.command}
```

Machine: {info.machine}; load average before {info.load_before}, after {info.load_after} (the box is
shared: Asterisk, controllers, Kamailio, PostgreSQL and every SIPp run on its 2 cores).

- Mix: {info.mix}; {info.rate:g} calls/s for {info.duration_s:.0f} s per run. {info.agents} operators
  (`bench/load_site/agents.yaml`) answer after {info.answer_s[0]:g}–{info.answer_s[1]:g} s (carried in the
  caller's number), talk {info.talk_s:g} s and hang up.
- **Dispatch latency**: from the store, `calls.queued_at` → the call's first rung offer's
  `ring_started_at` (the controller's dial, before the phone's 180), over the queued calls; and each
  controller's own ARI event → first command (`GET /api/stats`).
- **Exactly-once**: from the `offers` table after the run, no agent has two offers whose ring-to-end
  spans overlap. Zero-length "failed:reserved elsewhere" offers (a node that lost the reservation race
  to another) never rang and are counted apart.
- **Reconciliation**: SIPp's successful calls = Asterisk's CDR caller legs (`cdr_csv` `Master.csv` of
  every node) = calls in PostgreSQL, each with its kind's outcome, and each call's CDR leg on the node its
  channel id names.
- **CPU**: utime + stime of each process tree from `/proc` (`bench/cpu.py`), sampled each second
  from the first call to the last hang-up; per call = mean cores × that time / successful calls.
- **PostgreSQL writes**: `pg_stat_database` of the run's database (`xact_commit`, `tup_inserted +
  tup_updated + tup_deleted`) from before the calls to after the controllers stopped (their backends
  flush their counters on exit), less the idle rate measured just before the calls and less the bench's
  own reads, divided by the calls. Read-only transactions count as commits.

{chr(10).join(md)}

Rows written per table over each whole run (start-up, idle and calls; `pg_stat_user_tables`), per call:

{chr(10).join(f"- {r.label}: {_tables(r)}" for r in runs)}

Verdict: {verdict}.
"""


def _tables(run: RunFigures) -> str:
    if run.sipp_ok <= 0 or not run.rows_by_table:
        return "–"
    top = sorted(run.rows_by_table.items(), key=lambda kv: -kv[1])
    return ", ".join(f"`{name}` {n / run.sipp_ok:.1f}" for name, n in top if n > 0)
