"""Tables and summary of a capacity run, as console text and as Markdown (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.levels import LevelResult, highest_clean

DIALPLAN = "dialplan"
CONTROLLER = "controller"
IVR_SIDE = {DIALPLAN: ("asterisk",), CONTROLLER: ("asterisk", "controller")}
"""The processes that make up each IVR (SIPp, the load generator, is shown but not counted)."""

COLUMNS = (
    "target",
    "level",
    "calls",
    "ok",
    "failed",
    "read back",
    "peak open",
    "Asterisk cores",
    "controller cores",
    "SIPp cores",
    "IVR cores/100 calls",
    "IVR CPU ms/call",
    "p50 ms",
    "p99 ms",
)


@dataclass(frozen=True)
class RunInfo:
    command: str
    date: str
    nproc: int
    cpu_model: str
    call_s: float
    pcap: str
    notes: tuple[str, ...] = ()


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def row(result: LevelResult) -> list[str]:
    side = IVR_SIDE.get(result.target, ("asterisk",))
    per_call = result.cores_per_call(*side)
    controller = result.cpu.get("controller") if result.target == CONTROLLER else None
    read_back = f"{result.verified}/{result.checked}" if result.checked else "–"
    return [
        result.target,
        str(result.plan.concurrency),
        str(result.plan.calls),
        str(result.successful),
        str(result.failed),
        read_back,
        str(result.peak_open),
        _num(result.cpu.get("asterisk")),
        _num(controller),
        _num(result.cpu.get("sipp")),
        _num(None if per_call is None else per_call * 100, 3),
        _num(result.cpu_ms_per_call(*side), 1),
        _num(result.p50_ms, 1),
        _num(result.p99_ms, 1),
    ]


def text_table(results: Sequence[LevelResult]) -> str:
    rows = [list(COLUMNS)] + [row(r) for r in results]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.rjust(widths[i]) for i, cell in enumerate(r)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: Sequence[LevelResult]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row(r)) + " |" for r in results]
    return "\n".join(lines)


def capacity_label(results: Sequence[LevelResult]) -> str:
    """ "≥ 400" when the top level was clean (the cap, not the limit), "150", or "none"."""
    if not results:
        return "not run"
    best = highest_clean(results)
    if best is None:
        return "none (the first level failed)"
    capped = bool(results) and all(r.clean for r in results)
    return f"≥ {best} (every level clean; the cap)" if capped else str(best)


def _at_level(results: Sequence[LevelResult], level: int) -> LevelResult | None:
    return next((r for r in results if r.plan.concurrency == level), None)


def summary_lines(by_target: dict[str, list[LevelResult]]) -> list[str]:
    dialplan, controller = by_target.get(DIALPLAN, []), by_target.get(CONTROLLER, [])
    lines = [
        f"highest zero-failure concurrency, dialplan IVR: {capacity_label(dialplan)}",
        f"highest zero-failure concurrency, controller IVR: {capacity_label(controller)}",
    ]
    best_d, best_c = highest_clean(dialplan), highest_clean(controller)
    if best_d and best_c is not None:
        capped_d, capped_c = all(r.clean for r in dialplan), all(r.clean for r in controller)
        bound = "" if capped_d == capped_c else ("≤ " if capped_d else "≥ ")
        why = {"≤ ": " (the dialplan IVR reached the cap)", "≥ ": " (the controller reached the cap)"}
        lines.append(f"capacity ratio controller/dialplan: {bound}{best_c / best_d:.2f}{why.get(bound, '')}")
    common = min(best_d or 0, best_c or 0)
    d_at, c_at = _at_level(dialplan, common), _at_level(controller, common)
    if d_at is not None and c_at is not None:
        d_cost, c_cost = d_at.cores_per_call("asterisk"), c_at.cores_per_call("asterisk", "controller")
        c_ast = c_at.cores_per_call("asterisk")
        if d_cost and c_cost is not None and c_ast is not None:
            lines.append(
                f"CPU per concurrent call at {common} calls: dialplan {d_cost * 100:.3f} cores/100 calls "
                f"(Asterisk); controller {c_cost * 100:.3f} cores/100 calls (Asterisk "
                f"{c_ast * 100:.3f} + controller {(c_cost - c_ast) * 100:.3f}); "
                f"ratio {c_cost / d_cost:.2f}"
            )
        d_ms, c_ms = d_at.cpu_ms_per_call("asterisk"), c_at.cpu_ms_per_call("asterisk", "controller")
        c_ast_ms = c_at.cpu_ms_per_call("asterisk")
        if d_ms and c_ms is not None and c_ast_ms is not None:
            lines.append(
                f"CPU per call at {common} calls: dialplan {d_ms:.1f} ms (Asterisk); controller "
                f"{c_ms:.1f} ms (Asterisk {c_ast_ms:.1f} + controller {c_ms - c_ast_ms:.1f}); "
                f"ratio {c_ms / d_ms:.2f}"
            )
        lines.append(
            f"controller event→command latency at {common} calls: p50 {_num(c_at.p50_ms, 1)} ms, "
            f"p99 {_num(c_at.p99_ms, 1)} ms ({c_at.latency_samples} events)"
        )
    top = controller[-1] if controller else None
    if top is not None and top.plan.concurrency != common:
        lines.append(
            f"controller event→command latency at its top level {top.plan.concurrency}: "
            f"p50 {_num(top.p50_ms, 1)} ms, p99 {_num(top.p99_ms, 1)} ms"
        )
    for target, results in by_target.items():
        for result in results:
            if result.note:
                lines.append(f"{target} {result.plan.concurrency}: {result.note}")
    return lines


def markdown_report(info: RunInfo, by_target: dict[str, list[LevelResult]]) -> str:
    results = [r for rs in by_target.values() for r in rs]
    summary = "\n".join(f"- {line}" for line in summary_lines(by_target))
    notes = "\n".join(f"- {note}" for note in info.notes)
    return f"""# Benchmarks

## Capacity: controller over ARI vs a dialplan-only IVR on the same Asterisk

What does our architecture cost compared with a dialplan-only IVR? Both IVRs run on **one**
private Asterisk 22 and do the same thing with the same audio: answer, play the recorded
`hello-world`, collect DTMF until `#`, read the digits back with Asterisk's recorded digits,
hang up.

- **dialplan**: `asterisk_conf/extensions.conf` `[bench-dialplan]` (dialed as `bench-dialplan`):
  `Answer → Read(DIGITS,hello-world,…#) → SayDigits → Hangup` (the greeting is the prompt of `Read`).
- **controller**: `bench/flows/bench.yaml` (dialed as `bench-ari`): `collect` (prompt file
  `hello-world`, `#` terminator) → `say` with `digits:` read-back → `hangup`, executed by
  `python -m ivr.cli serve` over ARI.

Measured {info.date} with:

```
{info.command}
```

Machine: {info.nproc} cores, {info.cpu_model}. SIPp runs on the same machine (its CPU is shown,
not counted as IVR cost).

### Method

- Every caller (SIPp `caller_waits_bye`) plays one continuous PCMU + RFC 4733 stream:
  {info.pcap}; a call lasts about {info.call_s:.1f} s. A call succeeds when the IVR hangs up
  (SIPp receives BYE) within 30 s of the last message.
- Each level places calls at 1.25 × level / call length per second with SIPp's `-l` = level, so
  the level is full for about one call length; a target stops at its first level with any failure.
- **read back**: calls whose digits were confirmed on the IVR side — for the controller, calls of
  that level in `GET /api/calls` with input `4271` and the `readback` node in their path (the API
  returns at most 500); for the dialplan, `bench-dialplan read 4271` lines in Asterisk's log.
- **cores**: utime + stime deltas of the process tree in `/proc`, sampled every second, averaged
  over the seconds when at least 90 % of the level's calls were open ("IVR cores/100 calls" =
  Asterisk (+ controller) cores per 100 open calls over that window). "IVR CPU ms/call" = CPU
  time of Asterisk (+ controller) over the whole level divided by the calls that succeeded. Near
  saturation calls stretch, so cores per open call understate the cost; CPU per call does not.
- **p50/p99**: the controller's own event → first command latency (`GET /api/stats`); the
  controller is restarted before each level so the figures belong to that level alone.

### Results

{markdown_table(results)}

### Summary

{summary}
{("" if not notes else chr(10) + "### Notes" + chr(10) + chr(10) + notes + chr(10))}"""
