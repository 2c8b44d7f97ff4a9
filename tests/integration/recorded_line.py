"""Shared by the recordings and listen-in tests: a number straight into the recorded `orders` queue, the
controller's API for binary answers, and Asterisk's own view of channels and bridges."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import wait_for_flows

HERE = Path(__file__).resolve().parent
NUMBER = "7720"
FLOW = f"""\
name: recorded_line
languages: [en]
numbers: ["{NUMBER}"]
entry: q
nodes:
  q: {{type: queue, queue: orders, on_no_agents: sorry, after: bye}}
  sorry: {{type: say, prompt: "Sorry, nobody is free.", next: bye}}
  bye: {{type: hangup, outcome: completed}}
"""


def install_flow(controller: ControllerProcess, site_flows: Path) -> None:
    """Drop the flow into the site's flow folder (hot reload) and wait until it is live."""
    path = site_flows / "recorded_line.yaml"
    if not path.exists():
        path.write_text(FLOW)
    wait_for_flows(
        controller,
        lambda body: any(f.get("name") == "recorded_line" for f in body["flows"]),
        wait_s=10,
        what="flow recorded_line",
    )


def live_call(controller: ControllerProcess, caller: str, *, wait_s: float = 20.0) -> dict[str, Any]:
    """The call record from ``caller`` once it talks with an operator (agent known, not ended)."""
    deadline = time.monotonic() + wait_s
    last = None
    while time.monotonic() < deadline:
        for record in controller.calls(limit=20):
            if record["caller"]["number"] == caller:
                last = record
                if record["agent"] and record["ended_at"] is None:
                    return dict(record)
                break
        time.sleep(0.2)
    raise AssertionError(f"call from {caller} never talked with an operator; last: {last}")


def fetch(controller: ControllerProcess, path: str, headers: dict[str, str] | None = None) -> Any:
    req = urllib.request.Request(controller.base_url + path, headers=headers or {})
    return urllib.request.urlopen(req, timeout=10)


def ari_get(pbx: TestPbx, path: str) -> Any:
    user = pbx.config.ari_user
    token = base64.b64encode(f"{user}:{pbx.env['IVR_ARI_PASSWORD']}".encode()).decode()
    req = urllib.request.Request(pbx.env["IVR_ARI_URL"] + "/ari" + path)
    req.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def supervisor_scenario() -> Path:
    return HERE / "scenarios" / "supervisor_phone.xml"
