from __future__ import annotations

import copy
from dataclasses import fields

from ivr.flows.engine import CallState


def busy_state() -> CallState:
    return CallState(
        "c1",
        "shop",
        "v3",
        "ja",
        "card",
        node="digits",
        stack=[("shop", "menu"), ("card", None)],
        vars={"caller.number": "0312345678", "digits": "4271"},
        local={"play": "p1", "timers": ["t1", "t2"], "listening": ["ja"], "nested": {"a": [1, {"b": 2}]}},
        sensitive_vars=["card"],
        counter=7,
        entry_seq=3,
        path=["welcome", "menu", "card/digits"],
        typeahead="12",
        outcome="transferred",
    )


def test_fork_is_an_equal_copy_sharing_no_container() -> None:
    state = busy_state()
    forked = state.fork()
    assert forked == state
    for f in fields(CallState):
        value = getattr(state, f.name)
        if isinstance(value, (list, dict, set)):
            assert getattr(forked, f.name) is not value, f.name
    assert forked.local["timers"] is not state.local["timers"]
    assert forked.local["nested"]["a"][1] is not state.local["nested"]["a"][1]


def test_changing_a_fork_leaves_the_original_as_it_was() -> None:
    state = busy_state()
    before = copy.deepcopy(state)
    forked = state.fork()
    forked.stack.pop()
    forked.vars["digits"] = ""
    forked.local["timers"].append("t3")
    forked.local["nested"]["a"][1]["b"] = 3
    forked.local["play"] = None
    forked.sensitive_vars.append("pin")
    forked.path.append("bye")
    forked.node, forked.counter, forked.finished = None, 8, True
    assert state == before
