"""Hot reload of site flows on the running controller, proven with real calls on the real Asterisk.

A flow file bound to its own number is written into the controller's site flow directory, edited,
broken and fixed while the controller runs; each step is checked through ``GET /api/flows`` and a call.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call_keys, newest_call, wait_for_flows

pytestmark = pytest.mark.asterisk

NUMBER = "7001"
FLOW = "it_hot_reload"
FLOWS = Path(__file__).parent / "flows"
VERSION_A = (FLOWS / "hot_reload_a.yaml").read_text()
VERSION_B = (FLOWS / "hot_reload_b.yaml").read_text()
PATH_A = ["a_greet", "a_bye"]
PATH_B = ["b_greet", "b_jump", "b_bye"]
# The broken edit: the goto points at a node that does not exist.
GOOD_TARGET = "    target: b_bye\n"
BAD_TARGET = "    target: b_missing\n"
RELOAD_S = 5.0  # the contract is ~2 s (0.5 s polling); slack for a loaded machine


def _write(path: Path, text: str) -> None:
    """Replace the file atomically, as an editor's save does (the watcher never sees half a file)."""
    tmp = path.with_name(path.name + ".tmp")  # not *.yaml: the registry ignores it
    tmp.write_text(text)
    os.replace(tmp, path)


def _flow(body: dict[str, Any]) -> dict[str, Any] | None:
    return next((f for f in body["flows"] if f["name"] == FLOW), None)


def _errors_for(body: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    return [e for e in body["errors"] if Path(str(e["file"])).name == path.name]


@pytest.fixture
def flow_file(site_flows: Path, controller: ControllerProcess) -> Iterator[Path]:
    path = site_flows / f"{FLOW}.yaml"
    yield path
    path.unlink(missing_ok=True)  # leave the shared site directory as we found it
    wait_for_flows(controller, lambda body: _flow(body) is None, wait_s=RELOAD_S, what=f"{FLOW} removed")


async def _call_path(pbx: TestPbx, controller: ControllerProcess, tmp_path: Path, caller: str) -> list[str]:
    result = await call_keys(pbx, tmp_path, service=NUMBER, groups=[], caller=caller, trailing_silence_s=10.0)
    assert result.ok, result.describe()  # the flow's hangup node sent the BYE
    record = newest_call(controller, caller=caller)
    assert record["flow"] == FLOW
    assert record["outcome"] == "completed"
    return list(record["path"])


async def test_edits_reach_the_next_call_and_broken_edits_change_nothing(
    pbx: TestPbx, controller: ControllerProcess, flow_file: Path, tmp_path: Path
) -> None:
    # A new file: listed, bound to its number, and the next call runs it.
    _write(flow_file, VERSION_A)
    body = wait_for_flows(
        controller,
        lambda b: (f := _flow(b)) is not None and NUMBER in f["numbers"],
        wait_s=RELOAD_S,
        what=f"{FLOW} on {NUMBER}",
    )
    flow = _flow(body)
    assert flow is not None
    version_a = flow["version"]
    assert _errors_for(body, flow_file) == []
    assert await _call_path(pbx, controller, tmp_path, "0333300001") == PATH_A

    # A valid edit: a new version within the reload interval; the next call takes the new path.
    _write(flow_file, VERSION_B)
    body = wait_for_flows(
        controller,
        lambda b: (f := _flow(b)) is not None and f["version"] != version_a,
        wait_s=RELOAD_S,
        what=f"a new version of {FLOW}",
    )
    flow = _flow(body)
    assert flow is not None
    version_b = flow["version"]
    assert await _call_path(pbx, controller, tmp_path, "0333300002") == PATH_B

    # A broken edit: reported with file, line and column; version B stays live.
    assert GOOD_TARGET in VERSION_B
    broken = VERSION_B.replace(GOOD_TARGET, BAD_TARGET)
    bad_line = broken.splitlines().index(BAD_TARGET.rstrip("\n")) + 1
    bad_column = BAD_TARGET.index("b_missing") + 1
    _write(flow_file, broken)
    body = wait_for_flows(
        controller,
        lambda b: bool(_errors_for(b, flow_file)),
        wait_s=RELOAD_S,
        what=f"an error for {flow_file.name}",
    )
    errors = _errors_for(body, flow_file)
    missing = [e for e in errors if "b_missing" in str(e["message"])]
    assert missing, errors
    error = missing[0]
    assert (error["line"], error["column"]) == (bad_line, bad_column), error
    assert error["node_path"] == "nodes.b_jump.target"
    assert str(error["text"]).startswith(f"{flow_file}:{bad_line}:{bad_column}: "), error
    flow = _flow(body)
    assert flow is not None
    assert flow["version"] == version_b  # the last good version is still the live one
    assert await _call_path(pbx, controller, tmp_path, "0333300003") == PATH_B

    # Fixed again: the error clears.
    _write(flow_file, VERSION_B)
    body = wait_for_flows(
        controller, lambda b: not _errors_for(b, flow_file), wait_s=RELOAD_S, what="the error cleared"
    )
    flow = _flow(body)
    assert flow is not None
    assert flow["version"] == version_b
    assert await _call_path(pbx, controller, tmp_path, "0333300004") == PATH_B
