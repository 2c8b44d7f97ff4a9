"""The ACD benchmark's table and Markdown section (pure functions; ``bench/acd.py`` runs it)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.acd_trace import Figures, pct, share_within

OURS = "acd"
THEIRS = "app_queue"
LABELS = {OURS: "our ACD", THEIRS: "app_queue"}
SECTION = "## ACD against app_queue"


@dataclass(frozen=True)
class Phase:
    """One system's share of the run: its callers' SIPp outcome, CPU and the phones' figures."""

    system: str
    placed: int
    successful: int
    failed: int
    wall_s: float
    cpu_s: dict[str, float]
    figures: Figures


@dataclass(frozen=True)
class AcdRunInfo:
    command: str
    date: str
    nproc: int
    cpu_model: str
    agents: int
    answer_delays_s: tuple[float, ...]
    seed: int
    talk_s: float
    wrapup_s: float
    ring_timeout_s: float
    ring_cycle_s: float
    target_rings: int
    calls: int
    rate: float
    router_output: str = ""
    notes: tuple[str, ...] = field(default=())


def _s(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %"


def ratio(ours: float | None, theirs: float | None) -> str:
    """``ours / theirs`` to two decimals; "–" when either is missing or negative, or theirs is 0."""
    if ours is None or theirs is None or ours < 0 or theirs <= 0:
        return "–"
    return f"{ours / theirs:.2f}"


@dataclass(frozen=True)
class Metric:
    name: str
    values: dict[str, str]
    ratio: str = ""


def metrics(phases: Sequence[Phase], target_s: float, wrapup_s: float) -> list[Metric]:
    """One row per measure, one column per system, and ours/theirs where both ran."""
    by = {p.system: p for p in phases}

    def row(
        name: str,
        get: Callable[[Phase], float | None],
        fmt: Callable[[float | None], str] = _s,
        *,
        with_ratio: bool = True,
    ) -> Metric:
        raw = {system: get(phase) for system, phase in by.items()}
        values = {system: fmt(value) for system, value in raw.items()}
        both = with_ratio and OURS in raw and THEIRS in raw
        return Metric(name, values, ratio(raw[OURS], raw[THEIRS]) if both else "")

    def count(name: str, get: Callable[[Phase], str]) -> Metric:
        return Metric(name, {s: get(p) for s, p in by.items()})

    return [
        count("callers placed / finished ok / failed", lambda p: f"{p.placed} / {p.successful} / {p.failed}"),
        count(
            "callers queued / connected to an operator",
            lambda p: f"{p.figures.callers} / {p.figures.answered}",
        ),
        count("operator rings (unanswered)", lambda p: f"{p.figures.offers} ({p.figures.unanswered_offers})"),
        row("dispatch p50, s (all rings)", lambda p: pct(p.figures.dispatch_s, 50)),
        row("dispatch p99, s (all rings)", lambda p: pct(p.figures.dispatch_s, 99)),
        count(
            "rings to an idle operator / with callers waiting",
            lambda p: f"{len(p.figures.dispatch_idle_s)} / {len(p.figures.dispatch_queued_s)}",
        ),
        row(
            "dispatch p50, s (idle operator: caller enters → ring)",
            lambda p: pct(p.figures.dispatch_idle_s, 50),
        ),
        row("dispatch max, s (idle operator)", lambda p: pct(p.figures.dispatch_idle_s, 100)),
        row(
            f"dispatch p50, s (caller waiting: BYE + {wrapup_s:g} s wrap-up → ring)",
            lambda p: pct(p.figures.dispatch_queued_s, 50),
        ),
        row("dispatch p99, s (caller waiting)", lambda p: pct(p.figures.dispatch_queued_s, 99)),
        row(
            "operator's pause, caller waiting: BYE → next ring, min, s",
            lambda p: pct(p.figures.gap_queued_s, 0),
        ),
        row("operator's pause p50, s", lambda p: pct(p.figures.gap_queued_s, 50)),
        row("operator's pause p99, s", lambda p: pct(p.figures.gap_queued_s, 99)),
        count("callers rung out of arrival order (pairs)", lambda p: str(p.figures.inversions)),
        row("ASA p50, s (queue entry → operator answers)", lambda p: pct(p.figures.asa_s, 50)),
        row("ASA p90, s", lambda p: pct(p.figures.asa_s, 90)),
        row("ASA p99, s", lambda p: pct(p.figures.asa_s, 99)),
        row(
            f"answered within three rings (ASA ≤ {target_s:g} s)",
            lambda p: share_within(p.figures.asa_s, target_s),
            _share,
        ),
        row(
            f"ring-to-answer at the phone ≤ {target_s:g} s",
            lambda p: share_within(p.figures.ring_s, target_s),
            _share,
        ),
        row("ring-to-answer at the phone p50, s", lambda p: pct(p.figures.ring_s, 50)),
        row("Asterisk CPU, s", lambda p: p.cpu_s.get("asterisk"), lambda v: _s(v, 1)),
        row("controller CPU, s", lambda p: p.cpu_s.get("controller"), lambda v: _s(v, 1), with_ratio=False),
        row("wall time, s", lambda p: p.wall_s, lambda v: _s(v, 0), with_ratio=False),
    ]


def text_table(phases: Sequence[Phase], target_s: float, wrapup_s: float) -> str:
    systems = [p.system for p in phases]
    rows = [["measure", *(LABELS.get(s, s) for s in systems), "ours/theirs"]]
    rows += [[m.name, *(m.values[s] for s in systems), m.ratio] for m in metrics(phases, target_s, wrapup_s)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def markdown_table(phases: Sequence[Phase], target_s: float, wrapup_s: float) -> str:
    systems = [p.system for p in phases]
    head = ["measure", *(LABELS.get(s, s) for s in systems), "ours/theirs"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for m in metrics(phases, target_s, wrapup_s):
        lines.append("| " + " | ".join([m.name, *(m.values[s] for s in systems), m.ratio or ""]) + " |")
    return "\n".join(lines)


def summary_lines(phases: Sequence[Phase], target_s: float) -> list[str]:
    """The headline comparison (ours vs theirs, and whether ours ≤ theirs), when both systems ran."""
    by = {p.system: p.figures for p in phases}
    if OURS not in by or THEIRS not in by:
        return []
    ours, theirs = by[OURS], by[THEIRS]
    lines = []
    for name, a, b in (
        ("ASA p50", pct(ours.asa_s, 50), pct(theirs.asa_s, 50)),
        ("ASA p99", pct(ours.asa_s, 99), pct(theirs.asa_s, 99)),
        (
            "dispatch p99 with a caller waiting",
            pct(ours.dispatch_queued_s, 99),
            pct(theirs.dispatch_queued_s, 99),
        ),
        ("operator's pause p99", pct(ours.gap_queued_s, 99), pct(theirs.gap_queued_s, 99)),
    ):
        verdict = "" if a is None or b is None else (" — ours ≤ theirs" if a <= b else " — ours > theirs")
        lines.append(f"{name}: ours {_s(a)} s, app_queue {_s(b)} s, ratio {ratio(a, b)}{verdict}")
    a, b = share_within(ours.asa_s, target_s), share_within(theirs.asa_s, target_s)
    verdict = "" if a is None or b is None else (" — ours ≥ theirs" if a >= b else " — ours < theirs")
    lines.append(f"answered within three rings: ours {_share(a)}, app_queue {_share(b)}{verdict}")
    return lines


def markdown_section(info: AcdRunInfo, phases: Sequence[Phase]) -> str:
    target_s = info.ring_cycle_s * info.target_rings
    delays = info.answer_delays_s
    mean_delay = sum(delays) / len(delays) if delays else 0.0
    notes = "".join(f"\n- {n}" for n in info.notes)
    summary = "".join(f"\n- {line}" for line in summary_lines(phases, target_s))
    order = " then ".join(LABELS.get(p.system, p.system) for p in phases)
    order = order[:1].upper() + order[1:]
    router = f"\n```\n{info.router_output.strip()}\n```\n" if info.router_output.strip() else "\n(not run)\n"
    return f"""{SECTION}

Does our ACD (controller + `acd/`, over ARI) hand calls to operators as fast as Asterisk's own
`app_queue`? Both run in **one** run on **one** private Asterisk 22, with the **same** SIPp operator
phones (registered once, kept for both systems) and the same caller load; only the dialed number differs.

- **our ACD**: `bench/acd_site/flows/acd_bench.yaml` (dialed as `bench-acd`): straight into queue
  `bench` (`bench/acd_site/queues.yaml`: longest-idle, wrap-up {info.wrapup_s:g} s, ring timeout
  {info.ring_timeout_s:g} s, no announcements); the controller provisions the operators' endpoints over ARI.
- **app_queue**: `asterisk_conf/extensions.conf` `[bench-queue]` (dialed as `bench-queue`):
  `Answer → Queue(bench-queue,c) → Hangup`; `asterisk_conf/queues.conf` `[bench-queue]`: strategy
  `leastrecent`, `ringinuse=no`, `wrapuptime={info.wrapup_s:g}`, `timeout={info.ring_timeout_s:g}`,
  `retry=1` (the least allowed: a caller whose ring failed tries again after 1 s, not the default 5),
  `autofill=yes`, static members `PJSIP/3201`…`PJSIP/32{info.agents:02d}` — the endpoints the controller
  provisioned (it keeps running while app_queue is measured), registered by the same phones.

Measured {info.date} with:

```
{info.command}
```

Machine: {info.nproc} cores, {info.cpu_model}. Asterisk, the controller and every SIPp run on it.

### Setup

- {info.agents} operators (`bench/acd_site/agents.yaml`), each a SIPp pair (`register` with digest auth +
  `bench/scenarios/acd_agent.xml`): 180 Ringing at once, then **200 OK after the call's answer delay**, then
  talks {info.talk_s:g} s and hangs up (BYE). The operators are identical; the delay belongs to the call.
- **Answer delays: uniform over 1.0–6.0 s per call** (0.1 s steps, seed {info.seed}; this run: min
  {min(delays, default=0):g}, mean {mean_delay:.2f}, max {max(delays, default=0):g} s). Call *n* gets the
  same delay in both systems: it travels in the caller's number (prefix, delay in tenths, index),
  which reaches the phone in the INVITE's From.
- {info.calls} callers per system (`bench/scenarios/acd_caller.xml`, a unique number per call) at
  {info.rate:g} calls/s, each waiting until the operator hangs up. With an average handling time of
  answer delay + talk + wrap-up, {info.agents} operators serve fewer calls per second than arrive, so a
  queue builds.
- {order}, one after the other on the same Asterisk, phones and controller.

### Definitions (identical for both systems; all times from SIPp `-trace_msg` on one clock)

- **queue entry**: the caller's 200 OK received (both systems answer and queue at once).
- **dispatch**: operator phone receives the INVITE − max(queue entry of that caller, the moment the
  operator was free: its previous BYE + the configured wrap-up {info.wrapup_s:g} s, or the start for its first
  call). Split in *idle operator* (an operator was free when the caller came: entry → ring) and *caller
  waiting* (the caller was queued before the operator became free: the pure "operator free → phone
  rings" delay). Negative = rang before the configured wrap-up was over.
- **operator's pause**: for the *caller waiting* rings, the operator's previous BYE → its next INVITE
  (wrap-up included; no assumption about how a system counts wrap-up).
- **out of arrival order**: pairs of callers where the later arrival was rung first (0 = first come,
  first served).
- **ASA** (answer speed): the operator's 200 OK sent − the caller's queue entry. Three rings =
  {info.target_rings} × {info.ring_cycle_s:g} s = {target_s:g} s.
- **ring-to-answer at the phone**: INVITE received → 200 OK sent; it equals the phone's answer delay in
  both systems (a check that both rang the same phones, not a difference between them).
- Percentiles are nearest-rank; with up to 100 values (here {info.calls}), p99 is the largest value.
- **CPU**: utime + stime of Asterisk's and the controller's process trees over each system's share.

### Results

{markdown_table(phases, target_s, info.wrapup_s)}
{summary}

### Routing alone: `python -m bench.router`

The router's decision time without Asterisk (1,000 agents, 10,000 waiting calls), same machine, same day:
{router}
### Caveats

- One small run ({info.calls} calls per system, {info.agents} operators): p99 is one or two calls; rerun
  before trusting a small difference.
- app_queue does not hold wrap-up exactly: it keeps a member's last call end in whole seconds (`time_t
  lastcall`) and a waiting caller re-checks for a free member about once a second, so its operators pause
  anywhere from about wrap-up − 1 s to wrap-up + 1 s between calls (see "operator's pause"); our ACD pauses
  them wrap-up + a few ms every time. Its negative "caller waiting" dispatch is that early end of wrap-up:
  app_queue gets more operator time out of the same configuration, which helps its ASA.
- With `autofill`, every waiting app_queue caller looks for a member on its own schedule, so a later caller
  can take the operator an earlier one was waiting for ("out of arrival order"); our router serves the
  longest-waiting caller first.
- An idle operator is rung a few milliseconds later by our ACD than by app_queue (ARI originate round trip
  and the controller's event loop; "idle operator" rows) — small against ring times of seconds.
- app_queue got its most favourable `retry` (1 s); with the default 5 s a caller that loses a member to
  another caller waits 5 s before its next try.
- The systems run one after the other, not interleaved: the second runs on an Asterisk that has already
  carried {info.calls} calls. Our ACD's figures include the controller's CPU, on a 2-core machine shared with
  Asterisk and {info.agents + 1} SIPp processes.
- The answer delay travels in the caller's number, so the phones can only ring 1.0–9.9 s; the caller's
  number is the only thing the two systems' INVITEs to the phones are matched on.
- app_queue's `bench-queue` context and queue are rendered into every instance (like `bench-dialplan`);
  its members exist only while the controller has provisioned 3201–32{info.agents:02d}.{notes}
"""


def replace_section(document: str, section: str, heading: str = SECTION) -> str:
    """``document`` with the ``heading`` section (up to the next ``## `` heading) replaced by ``section``,
    or with ``section`` appended when there is none."""
    pattern = re.compile(rf"^{re.escape(heading)}\s*$.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    body = section.rstrip("\n") + "\n"
    if pattern.search(document):
        return pattern.sub(lambda _m: body + "\n", document, count=1).rstrip("\n") + "\n"
    return document.rstrip("\n") + "\n\n" + body
