"""The "Load, reconciliation and soak" section of docs/benchmarks.md and its console text (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.load_plan import KindPlan
from bench.reconcile import Reconciliation

SECTION = "## Load, reconciliation and soak"
COLUMNS = (
    "kind",
    "outcome expected",
    "placed",
    "SIPp ok",
    "SIPp failed",
    "CDR caller legs",
    "store",
    "outcome ok",
)


@dataclass
class LoadFigures:
    """What one run measured (None: not measured)."""

    command: str
    date: str
    machine: str
    duration_s: float
    rate: float
    agents: int
    peak_open: int = 0
    mean_open: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    latency_samples: int = 0
    cpu_cores: dict[str, float] = field(default_factory=dict)
    rss_mib: dict[str, float] = field(default_factory=dict)
    taskprocessors: str = "not measured"
    soak: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def kind_rows(plans: Sequence[KindPlan], rec: Reconciliation) -> list[list[str]]:
    expected = {p.kind.name: p.kind.outcome for p in plans}
    return [
        [
            f.kind,
            expected.get(f.kind, "–"),
            str(f.placed),
            str(f.sipp_ok),
            str(f.sipp_failed),
            str(f.cdr),
            str(f.store),
            str(f.outcome_ok),
        ]
        for f in rec.by_kind
    ]


def _num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def summary_lines(fig: LoadFigures, rec: Reconciliation) -> list[str]:
    total = sum(f.placed for f in rec.by_kind)
    failed = sum(f.sipp_failed + max(0, f.placed - f.sipp_ok - f.sipp_failed) for f in rec.by_kind)
    cpu = ", ".join(f"{k} {v:.2f}" for k, v in fig.cpu_cores.items()) or "–"
    rss = ", ".join(f"{k} {v:.0f} MiB" for k, v in fig.rss_mib.items()) or "–"
    return [
        f"{total} calls at {fig.rate:g}/s for {fig.duration_s:.0f} s, {fig.agents} operators; "
        f"concurrent calls peak {fig.peak_open}, mean {fig.mean_open:.1f}; failed calls {failed}",
        f"reconciliation: {'OK (SIPp = CDR = store, outcomes match)' if rec.ok else 'FAILED'}",
        f"controller event→command latency: p50 {_num(fig.p50_ms)} ms, p99 {_num(fig.p99_ms)} ms "
        f"({fig.latency_samples} events)",
        f"mean CPU, cores: {cpu}; peak RSS: {rss}",
        f"Asterisk taskprocessors: {fig.taskprocessors}",
        *fig.soak,
        *fig.notes,
    ]


def text_report(plans: Sequence[KindPlan], fig: LoadFigures, rec: Reconciliation) -> str:
    rows = [list(COLUMNS), *kind_rows(plans, rec)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.rjust(widths[i]) for i, c in enumerate(r)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", *summary_lines(fig, rec)]
    if rec.problems:
        lines += ["", "reconciliation problems:", *(f"  {p}" for p in rec.problems)]
    return "\n".join(lines)


def markdown_section(plans: Sequence[KindPlan], fig: LoadFigures, rec: Reconciliation) -> str:
    table = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    table += ["| " + " | ".join(r) + " |" for r in kind_rows(plans, rec)]
    mix = "\n".join(
        f"- **{p.kind.name}** ({p.kind.share:.0%}, numbers `{p.kind.prefix}…`): "
        f"keys/speech {' '.join(str(s) for s in p.kind.steps)} → `{p.kind.outcome}`"
        for p in plans
    )
    summary = "\n".join(f"- {line}" for line in summary_lines(fig, rec))
    return f"""{SECTION}

A realistic mix on one private Asterisk 22 with the controller (`ivr serve`), the shop flow
(`ivr/flows/defaults/shop.yaml`, business hours forced open) and SIPp operators
(`bench/load_site/agents.yaml`, queue `orders`) who answer after a random 1–8 s (carried in the
caller's number, like `bench.acd`), talk 3 s and hang up. Then the run is **reconciled**: SIPp's
successful calls (its stats CSV) = Asterisk's own CDR caller legs (`cdr_csv`, `Master.csv`, trunk
channels in `from-trunk`; operator legs left out) = calls in the store, each with the outcome its
kind must get; any difference fails the run (exit 1, the ids printed).

Measured {fig.date} with:

```
{fig.command}
```

Machine: {fig.machine}. Asterisk, the controller and every SIPp run on it.

### Mix (SIPp, one process per kind, each at its share of the rate)

{mix}

### Method

- **concurrent calls**: the sum of SIPp's open calls (`CurrentCall`) over the kinds, each second.
- **latency**: the controller's own ARI event → first command (`GET /api/stats`), whole run.
- **CPU**: utime + stime of each process tree from `/proc`, mean over the run; **RSS** peak.
- **taskprocessors**: `asterisk -rx "core show taskprocessors"` every 10 s; the stasis/ARI queues' largest
  "Max Depth" (deepest since start) and "In Queue", against their high-water mark (500): a queue above it
  trips Asterisk's overload alert, which makes PJSIP refuse calls.
- **soak** (`--soak SECONDS`): RSS and open fds (`/proc/<pid>/fd`) of both process trees every 5 s; slope
  by least squares, per hour.

### Results

{chr(10).join(table)}

{summary}
"""
