"""`ivr flows check|schema|simulate|graph`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from ivr.flows.cli import main
from ivr.flows.loader import SHIPPED_DIR
from ivr.flows.schema import flow_schema
from ivr.flows.yamlpos import load_positioned

BROKEN = Path(__file__).parent / "broken"


def test_check_shipped_flows_is_clean(capsys) -> None:
    assert main(["flows", "check", str(SHIPPED_DIR)]) == 0
    assert "echo, order_line, shop, survey" in capsys.readouterr().out


def test_check_broken_exits_nonzero(capsys) -> None:
    assert main(["flows", "check", str(BROKEN / "unknown_queue.yaml")]) == 1
    err = capsys.readouterr().err
    assert "unknown_queue.yaml:7:12: nodes.start.queue: queue 'order' does not exist" in err


def test_schema_is_valid_and_shipped_flows_validate(capsys) -> None:
    assert main(["flows", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == json.loads(json.dumps(flow_schema()))
    for path in SHIPPED_DIR.glob("*.yaml"):
        jsonschema.validate(load_positioned(path.read_text(encoding="utf-8")).data, schema)


def test_simulate_with_input(capsys) -> None:
    code = main(["flows", "simulate", "echo", "--input", "4271#"])
    out = capsys.readouterr().out
    assert code == 0
    assert "four two seven one" in out
    assert "path: hello → digits → readback → bye" in out


def test_simulate_shop_after_hours(capsys) -> None:
    code = main(["flows", "simulate", "shop", "--at", "2025-06-02T21:00+09:00", "--input", "2,1"])
    out = capsys.readouterr().out
    assert code == 0 and "after_hours" in out and "recording message" in out


def test_simulate_unknown_flow(capsys) -> None:
    assert main(["flows", "simulate", "nope", "--input", "1"]) == 2
    assert "no valid flow named 'nope'" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz dot not installed")
def test_graph_writes_svg(tmp_path: Path) -> None:
    out = tmp_path / "shop.svg"
    assert main(["flows", "graph", "shop", "-o", str(out)]) == 0
    svg = out.read_text(encoding="utf-8")
    assert "<svg" in svg and "main_menu" in svg and "orders" in svg


def test_graph_dot_has_keys_and_sinks(tmp_path: Path) -> None:
    out = tmp_path / "shop.dot"
    assert main(["flows", "graph", "shop", "-o", str(out)]) == 0
    dot = out.read_text(encoding="utf-8")
    assert '"main_menu" -> "orders_menu" [label="1 / 注文 / order"]' in dot
    assert '"queue:orders"' in dot


def test_check_uses_the_sites_queues_file(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    """A flow queueing into a site queue passes with that queues file, and fails without it."""
    from ivr.cli import main as ivr_main  # the wiring hands the ACD's queues to `flows check`

    here = Path(__file__).resolve().parent.parent / "integration"
    flow = str(here / "flows" / "acd_lines.yaml")
    assert ivr_main(["flows", "check", flow]) == 1
    assert "queue 't_returns' does not exist" in capsys.readouterr().err
    monkeypatch.setenv("IVR_QUEUES_FILE", str(here / "acd" / "queues.yaml"))
    monkeypatch.setenv("IVR_AGENTS_FILE", str(here / "acd" / "agents.yaml"))
    assert ivr_main(["flows", "check", flow, str(SHIPPED_DIR)]) == 0  # its survey subflow is a shipped flow
