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
