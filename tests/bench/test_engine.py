from __future__ import annotations

import copy

from bench.engine import KEYS, events_per_second, load_bench_flow, one_call
from ivr.flows.engine import CallState, FlowEngine


def test_the_bench_call_runs_to_its_hang_up() -> None:
    engine = FlowEngine(load_bench_flow())
    # two prompts heard out, each key, and nothing else
    assert one_call(engine, 1) == 2 + len(KEYS)


def test_both_copies_are_measured_and_fork_is_put_back() -> None:
    engine = FlowEngine(load_bench_flow())
    fork = CallState.fork
    assert events_per_second(engine, 20, copy.deepcopy) > 0
    assert events_per_second(engine, 20, CallState.fork) > 0
    assert CallState.fork is fork
