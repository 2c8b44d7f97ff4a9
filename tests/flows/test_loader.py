"""What the site knows (queues, departments) is passed to the loader; the defaults are the shipped set."""

from __future__ import annotations

from pathlib import Path

from ivr.flows import commands as c
from ivr.flows.cli import main
from ivr.flows.engine import CallContext, FlowEngine
from ivr.flows.events import DtmfReceived
from ivr.flows.loader import SHIPPED_DIR, check_text, load_file, load_paths, load_text
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


KANJI_FLOW = """name: kanji
languages: [ja, en]
vars:
  hours.ja: 平日午前9時から午後6時
entry: start
nodes:
  start:
    type: say
    prompt: {ja: お電話ありがとうございます。, en: Thank you for calling.}
    next: bye
  bye:
    type: hangup
    prompt: {ja: "営業時間は、{hours.ja}です。", en: Goodbye.}
"""


def test_ordinary_japanese_with_kanji_loads_without_warnings() -> None:
    flow, problems = check_text(KANJI_FLOW, "kanji.yaml")
    assert problems == [] and flow is not None
    assert flow.nodes["start"].spec["prompt"]["ja"] == "お電話ありがとうございます。"
    assert flow.vars["hours.ja"] == "平日午前9時から午後6時"


def test_one_kanji_text_for_all_languages_loads_without_warnings() -> None:
    flow, problems = check_text(
        KANJI_FLOW.replace("{ja: お電話ありがとうございます。, en: Thank you for calling.}", "お電話"), "x"
    )
    assert problems == [] and flow is not None


def test_errors_keep_severity_error_and_their_text() -> None:
    _, [error, *_] = load_text(KANJI_FLOW.replace("next: bye", "next: byee"), "x.yaml")
    assert error.severity == "error" and not error.is_warning
    assert error.as_dict()["severity"] == "error"
    assert str(error).startswith("x.yaml:10:11: nodes.start.next: unknown node 'byee'")
    assert "warning" not in str(error)


def test_shipped_flows_load_with_no_errors_and_no_warnings(capsys) -> None:  # type: ignore[no-untyped-def]
    result = load_paths([SHIPPED_DIR])
    assert sorted(result.flows) == ["echo", "order_line", "shop", "survey"]
    assert result.errors == [] and result.warnings == []
    assert main(["flows", "check", str(SHIPPED_DIR)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "warning" not in captured.out
