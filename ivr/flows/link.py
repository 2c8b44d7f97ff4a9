"""Linking a set of loaded flows: each flow gets the subflows it enters; unknown subflows and numbers
bound to two flows are reported (errors only visible with all flows at hand)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from ivr.flows.model import Flow, FlowError
from ivr.flows.suggest import did_you_mean
from ivr.flows.verbs.subflow import Subflow


def link(flows: Mapping[str, Flow]) -> tuple[dict[str, Flow], list[FlowError]]:
    """Give each flow its subflows; report subflows that do not exist and numbers bound twice (the
    error goes to the flow that comes later in ``flows``: the first one keeps the number)."""
    errors: list[FlowError] = []
    linked: dict[str, Flow] = {}
    for flow in flows.values():
        subs: dict[str, Flow] = {}
        todo = [flow]
        while todo:
            current = todo.pop()
            for node_id, verb in current.nodes.items():
                target = verb.flow_name if isinstance(verb, Subflow) else None
                if target is None or target in subs or target == flow.name:
                    continue
                if target not in flows:
                    if current is flow:
                        message = f"unknown flow '{target}'{did_you_mean(target, flows)}"
                        errors.append(flow.error(f"nodes.{node_id}.flow", message))
                    continue
                subs[target] = flows[target]
                todo.append(flows[target])
        linked[flow.name] = replace(flow, subflows=MappingProxyType(subs))
    bound: dict[str, str] = {}
    for flow in flows.values():
        for i, number in enumerate(flow.numbers):
            if number in bound:
                message = f"number {number} is already bound to flow '{bound[number]}'"
                errors.append(flow.error(f"numbers.{i}", message))
            bound.setdefault(number, flow.name)
    return linked, errors
