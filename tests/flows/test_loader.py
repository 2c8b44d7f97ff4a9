"""What the site knows (queues, departments) is passed to the loader; the defaults are the shipped set."""

from __future__ import annotations

from pathlib import Path

from ivr.flows import commands as c
from ivr.flows.engine import CallContext, FlowEngine
from ivr.flows.events import DtmfReceived
from ivr.flows.loader import load_file, load_text
from ivr.flows.registry import FlowRegistry

FLOW = """name: site
languages: [en]
entry: pick
nodes:
  pick:
    type: menu
    prompt: "One for sales, two for the desk."
    options:
      "1": {goto: sales}
      "2": {goto: desk}
  sales:
    type: queue
    queue: {queue}
    on_no_agents: bye
  desk:
    type: transfer
    department: {department}
    on_failure: bye
  bye:
    type: hangup
"""


def _text(queue: str = "sales", department: str = "front_desk") -> str:
    return FLOW.replace("{queue}", queue).replace("{department}", department)


SALES = frozenset({"sales"})
DESK = {"front_desk": "3001"}


def test_defaults_are_the_shipped_queues_and_departments() -> None:
    flow, errors = load_text(_text("orders", "billing"), "site.yaml")
    assert errors == [] and flow is not None
    _, errors = load_text(_text(), "site.yaml")
    assert [(e.node_path, e.message.split(" (")[0]) for e in errors] == [
        ("nodes.sales.queue", "queue 'sales' does not exist"),
        ("nodes.desk.department", "department 'front_desk' does not exist"),
    ]


def test_site_queues_and_departments_replace_the_defaults() -> None:
    flow, errors = load_text(_text(), "site.yaml", queues=SALES, departments=DESK)
    assert errors == [] and flow is not None
    _, errors = load_text(_text("orders", "billing"), "site.yaml", queues=SALES, departments=DESK)
    assert {e.node_path for e in errors} == {"nodes.sales.queue", "nodes.desk.department"}


def test_transfer_to_a_department_dials_the_extension_resolved_at_load_time(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(_text(), encoding="utf-8")
    flow, errors = load_file(path, queues=SALES, departments=DESK)
    assert errors == [] and flow is not None
    engine = FlowEngine(flow)
    step = engine.start(CallContext("call-1"))
    step = engine.step(step.state, DtmfReceived("2"), CallContext("call-1").now)
    assert [x for x in step.commands if isinstance(x, c.Transfer)] == [c.Transfer("3001", 30.0)]


def test_registry_checks_against_the_site_configuration(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(_text(), encoding="utf-8")
    reg = FlowRegistry([tmp_path], default_flow="site", queues=SALES, departments=DESK)
    assert reg.errors() == [] and reg.names() == ["site"]
    assert FlowRegistry([tmp_path], default_flow="site").names() == []
