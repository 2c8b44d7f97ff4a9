"""Flow engine steps per second: ``python -m bench.engine`` runs the capacity bench's call
(bench/flows/bench.yaml: prompt, keys until #, read-back, hang up) through ``FlowEngine`` many times,
copying the state each step with ``CallState.fork()`` (now) and with ``copy.deepcopy`` (before #12),
alternating rounds so both see the same machine. Prints events per second and the ratio.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from ivr.flows import commands as c
from ivr.flows.engine import CallContext, CallState, FlowEngine
from ivr.flows.events import DtmfReceived, Event, PlaybackDone
from ivr.flows.loader import load_file
from ivr.flows.model import Flow

BENCH_FLOW = Path(__file__).parent / "flows" / "bench.yaml"
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
KEYS = "4271#"


def load_bench_flow() -> Flow:
    flow, errors = load_file(BENCH_FLOW)
    if flow is None:
        raise RuntimeError(f"{BENCH_FLOW}: {errors}")
    return flow


def one_call(engine: FlowEngine, n: int) -> int:
    """One call from start to hang-up; the number of events stepped."""
    step = engine.start(CallContext(f"c{n}", "0312345678", dialed="bench-ari", now=NOW))
    state, events = step.state, 0
    keys = list(KEYS)
    plays: list[str] = []
    while not state.finished:
        plays += [cmd.play_id for cmd in step.commands if isinstance(cmd, c.Play)]
        if plays:  # the caller hears each prompt out, then keys
            event: Event = PlaybackDone(plays.pop(0))
        elif keys:
            event = DtmfReceived(keys.pop(0))
        else:
            raise RuntimeError(f"the bench call is stuck at {state.node}")
        step = engine.step(state, event, NOW)
        state, events = step.state, events + 1
    return events


def events_per_second(engine: FlowEngine, calls: int, copier: Callable[[CallState], CallState]) -> float:
    original = CallState.fork
    CallState.fork = copier  # type: ignore[method-assign,assignment]
    try:
        start = time.perf_counter()
        events = sum(one_call(engine, n) for n in range(calls))
        return events / (time.perf_counter() - start)
    finally:
        CallState.fork = original  # type: ignore[method-assign]


def compare(calls: int, rounds: int) -> tuple[float, float]:
    """Best events/s of ``rounds`` with deepcopy (before) and with fork (after)."""
    engine = FlowEngine(load_bench_flow())
    before: list[float] = []
    after: list[float] = []
    for _ in range(rounds):
        before.append(events_per_second(engine, calls, copy.deepcopy))
        after.append(events_per_second(engine, calls, CallState.fork))
    return max(before), max(after)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    before, after = compare(args.calls, args.rounds)
    print(f"flow engine, bench call ({KEYS!r} keyed), {args.calls} calls, best of {args.rounds}")
    print(f"events/s  deepcopy {before:,.0f}  fork {after:,.0f}  ratio {after / before:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
