"""Hot reload: valid edits apply to new calls, broken edits keep the old version and are reported."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from ivr.flows.loader import SHIPPED_DIR
from ivr.flows.registry import FlowRegistry

FLOW = """name: site
languages: [en]
numbers: ["200"]
entry: hi
nodes:
  hi:
    type: hangup
    prompt: "{text}"
"""


def _write(path: Path, text: str) -> None:
    path.write_text(FLOW.replace("{text}", text), encoding="utf-8")


def test_routing_by_number_and_default(tmp_path: Path) -> None:
    _write(tmp_path / "site.yaml", "Hello")
    reg = FlowRegistry([SHIPPED_DIR, tmp_path])
    assert reg.errors() == []
    assert reg.for_number("100").name == "echo"
    assert reg.for_number("200").name == "site"
    assert reg.for_number("0312345678").name == "shop"


def test_valid_edit_applies_broken_edit_keeps_old_version(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    _write(path, "Hello")
    reg = FlowRegistry([tmp_path], default_flow="site")
    old = reg.get("site")
    _write(path, "Hello again")
    assert reg.reload()
    new = reg.get("site")
    assert new is not old and new.version != old.version
    assert old.nodes["hi"].spec["prompt"] == "Hello"  # a call in progress keeps its version
    path.write_text(FLOW.replace("type: hangup", "type: hangupp"), encoding="utf-8")
    reg.reload()
    assert reg.get("site").version == new.version
    [error] = reg.errors()
    assert (error.line, error.column) == (7, 11) and "unknown verb 'hangupp'" in error.message
    assert error.as_dict()["file"] == str(path)
    _write(path, "Fixed")
    reg.reload()
    assert reg.errors() == [] and reg.get("site").nodes["hi"].spec["prompt"] == "Fixed"


def test_site_flow_overrides_shipped_one(tmp_path: Path) -> None:
    shutil.copy(SHIPPED_DIR / "echo.yaml", tmp_path / "echo.yaml")
    text = (tmp_path / "echo.yaml").read_text(encoding="utf-8").replace("Goodbye.", "Bye now.")
    (tmp_path / "echo.yaml").write_text(text, encoding="utf-8")
    reg = FlowRegistry([SHIPPED_DIR, tmp_path])
    assert reg.get("echo").file == tmp_path / "echo.yaml"


async def test_watch_picks_up_changes(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    _write(path, "One")
    reg = FlowRegistry([tmp_path], default_flow="site")
    task = asyncio.create_task(reg.watch(interval=0.05))
    try:
        _write(path, "Two")
        for _ in range(100):
            await asyncio.sleep(0.02)
            if reg.get("site").nodes["hi"].spec["prompt"] == "Two":
                break
        assert reg.get("site").nodes["hi"].spec["prompt"] == "Two"
    finally:
        task.cancel()


MAIN = """name: main
languages: [en]
numbers: ["300"]
entry: start
nodes:
  start:
    type: subflow
    flow: {subflow}
    next: bye
  bye:
    type: hangup
    prompt: "Bye"
"""

HELPER = """name: {name}
languages: [en]
numbers: [{numbers}]
entry: hi
nodes:
  hi:
    type: hangup
    prompt: "Hi"
"""


def _helper(path: Path, name: str, numbers: str = "") -> None:
    path.write_text(HELPER.format(name=name, numbers=numbers), encoding="utf-8")


def test_edit_with_unknown_subflow_keeps_old_version_until_the_subflow_exists(tmp_path: Path) -> None:
    _helper(tmp_path / "helper.yaml", "helper")
    main = tmp_path / "main.yaml"
    main.write_text(MAIN.format(subflow="helper"), encoding="utf-8")
    reg = FlowRegistry([tmp_path], default_flow="main")
    assert reg.errors() == []
    live = reg.get("main")

    main.write_text(MAIN.format(subflow="helpr"), encoding="utf-8")
    assert reg.reload()
    assert reg.get("main").version == live.version and reg.get("main").subflows["helper"].name == "helper"
    [error] = reg.errors()
    assert error.file == str(main) and error.node_path == "nodes.start.flow"
    assert (error.line, error.column) == (8, 11)
    assert "unknown flow 'helpr'" in error.message and "did you mean 'helper'" in error.message

    _helper(tmp_path / "helpr.yaml", "helpr")  # the missing flow appears: the held edit goes live
    assert reg.reload()
    assert reg.errors() == []
    assert reg.get("main").version != live.version and "helpr" in reg.get("main").subflows


def test_number_claimed_by_a_later_edit_is_rejected_and_reported(tmp_path: Path) -> None:
    _helper(tmp_path / "a.yaml", "a", '"400"')
    _helper(tmp_path / "b.yaml", "b", '"500"')
    reg = FlowRegistry([tmp_path], default_flow="a")
    b_version = reg.get("b").version

    _helper(tmp_path / "a.yaml", "a", '"400", "500"')  # a (earlier file) now claims b's number
    assert reg.reload()
    assert reg.for_number("500").version == b_version and reg.for_number("400").numbers == ("400",)
    [error] = reg.errors()
    assert error.file == str(tmp_path / "a.yaml") and error.node_path == "numbers.1"
    assert error.message == "number 500 is already bound to flow 'b'"

    _helper(tmp_path / "a.yaml", "a", '"400", "600"')
    assert reg.reload()
    assert reg.errors() == [] and reg.for_number("600").name == "a" and reg.for_number("500").name == "b"


def test_rename_that_leaves_a_subflow_dangling_is_rejected(tmp_path: Path) -> None:
    _helper(tmp_path / "helper.yaml", "helper")
    (tmp_path / "main.yaml").write_text(MAIN.format(subflow="helper"), encoding="utf-8")
    reg = FlowRegistry([tmp_path], default_flow="main")

    _helper(tmp_path / "helper.yaml", "renamed")
    assert reg.reload()
    assert reg.names() == ["helper", "main"] and "helper" in reg.get("main").subflows
    [error] = reg.errors()
    assert error.file == str(tmp_path / "helper.yaml")
    assert "main.yaml" in error.message and "unknown flow 'helper'" in error.message


def test_startup_two_new_files_with_one_number_first_file_keeps_it(tmp_path: Path) -> None:
    _helper(tmp_path / "a.yaml", "a", '"700"')
    _helper(tmp_path / "b.yaml", "b", '"700"')
    reg = FlowRegistry([tmp_path], default_flow="a")
    assert reg.names() == ["a"] and reg.for_number("700").name == "a"
    assert [(e.file, e.node_path) for e in reg.errors()] == [(str(tmp_path / "b.yaml"), "numbers.0")]


def test_flows_entering_each_other_load_together(tmp_path: Path) -> None:
    for name, other in (("ping", "pong"), ("pong", "ping")):
        text = MAIN.replace("name: main", f"name: {name}").replace('numbers: ["300"]', "numbers: []")
        (tmp_path / f"{name}.yaml").write_text(text.format(subflow=other), encoding="utf-8")
    reg = FlowRegistry([tmp_path], default_flow="ping")
    assert reg.errors() == [] and reg.names() == ["ping", "pong"]


def test_a_queue_added_to_the_site_becomes_usable_by_flows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ivr.flows.registry import FlowRegistry

    (tmp_path / "w.yaml").write_text(
        "name: w\nnumbers: ['555']\nentry: q\nnodes:\n"
        "  q: {type: queue, queue: warehouse_desk, on_no_agents: bye}\n  bye: {type: hangup}\n"
    )
    registry = FlowRegistry([tmp_path], default_flow="w")
    assert "w" not in registry.names()
    assert any("warehouse_desk" in e.message for e in registry.errors())
    assert registry.set_environment(frozenset({"warehouse_desk"}), {}) is True
    assert "w" in registry.names() and registry.errors() == []
    assert registry.set_environment(frozenset({"warehouse_desk"}), {}) is False  # nothing changed


def test_a_reload_that_changes_the_flows_tells_its_listeners(tmp_path: Path) -> None:
    import shutil

    from ivr.flows.loader import SHIPPED_DIR
    from ivr.flows.registry import FlowRegistry

    site = tmp_path / "site"
    site.mkdir()
    registry = FlowRegistry([SHIPPED_DIR, site])
    told: list[str] = []
    registry.on_reloaded.append(lambda: told.append("reloaded"))
    assert registry.reload() is False and told == []  # nothing changed: nobody is told
    shutil.copy(SHIPPED_DIR / "echo.yaml", site / "echo.yaml")
    assert registry.reload() is True and told == ["reloaded"]
