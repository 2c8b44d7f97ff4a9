"""The same flow through a real call and through ``ivr flows simulate``: the same path."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from ivr.flows.loader import load_file
from ivr.flows.simulate import Simulator, http_lookup
from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call, newest_call, wait_for_flows

FLOW = Path(__file__).resolve().parent / "flows" / "agree.yaml"


async def test_lookup_and_transfer_failures_take_the_same_path_in_both(
    pbx: TestPbx, controller: ControllerProcess, site_flows: Path, tmp_path: Path
) -> None:
    shutil.copy(FLOW, site_flows / "agree.yaml")
    wait_for_flows(controller, lambda b: any(f["name"] == "agree" for f in b["flows"]), what="agree")
    result = await call(pbx, tmp_path, service="7790", caller="0312229901", trailing_silence_s=20)
    assert result.ok, result.describe()
    real = newest_call(controller, caller="0312229901")["path"]

    flow, errors = load_file(FLOW)
    assert flow is not None, errors
    sim = Simulator(
        flow,
        now=datetime.now(UTC),
        lookup=http_lookup,  # the same HTTP answer, judged by the same function
        transfer_outcome="failed",  # nobody answers 3199 in a terminal either
        out=lambda line: None,
        site_vars={"services.orders": f"{controller.base_url}/demo"},
    )
    state = sim.run(iter([]))
    assert real == state.path == ["setv", "check", "lookup", "xfer", "nobody", "bye"]
