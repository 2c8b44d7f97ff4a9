"""Helpers for placing real SIP calls at the test Asterisk and reading their records back."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ivr.testing.rtp_pcap import Dtmf, Silence, write_pcap
from ivr.testing.sipp import SippResult, caller_pcap, run_sipp
from ivr.testing.stack import ControllerProcess, TestPbx


async def call(
    pbx: TestPbx,
    tmp_path: Path,
    *,
    service: str,
    digits: str = "",
    lead_silence_s: float = 1.0,
    trailing_silence_s: float = 8.0,
    caller: str = "0312345678",
    display: str = "Test Caller",
    scenario: str = "caller_waits_bye",
    keys: dict[str, str] | None = None,
    timeout_s: float = 60.0,
) -> SippResult:
    pcap = caller_pcap(
        tmp_path / f"caller-{time.monotonic_ns()}.pcap",
        digits,
        lead_silence_s=lead_silence_s,
        trailing_silence_s=trailing_silence_s,
    )
    return await run_sipp(
        scenario,
        pbx.sip_target,
        service=service,
        pcap=pcap,
        keys={"caller": caller, "display": display, **(keys or {})},
        timeout_s=timeout_s,
        recv_timeout_s=timeout_s - 5,
    )


async def call_keys(
    pbx: TestPbx,
    tmp_path: Path,
    *,
    service: str,
    groups: list[str | float],
    caller: str,
    display: str = "Test Caller",
    lead_silence_s: float = 1.5,
    trailing_silence_s: float = 20.0,
    timeout_s: float = 60.0,
) -> SippResult:
    """A caller who presses key groups with pauses: ``groups`` mixes DTMF strings (``"4271#"``) and
    seconds of silence between them (``["2", "1", 3.0, "12#", 2.0, "4271#"]``); waits for the IVR's BYE."""
    segments: list[Silence | Dtmf] = [Silence(lead_silence_s)]
    for group in groups:
        segments.append(Silence(float(group)) if isinstance(group, float | int) else Dtmf(group))
    segments.append(Silence(trailing_silence_s))
    pcap = write_pcap(tmp_path / f"caller-{caller}-{time.monotonic_ns()}.pcap", segments)
    return await run_sipp(
        "caller_waits_bye",
        pbx.sip_target,
        service=service,
        pcap=pcap,
        keys={"caller": caller, "display": display},
        timeout_s=timeout_s,
        recv_timeout_s=timeout_s - 5,
    )


def wait_for_flows(
    controller: ControllerProcess,
    ready: Callable[[dict[str, Any]], bool],
    *,
    wait_s: float = 5.0,
    what: str = "flows",
) -> dict[str, Any]:
    """Poll ``GET /api/flows`` until ``ready(body)``; the body that satisfied it."""
    deadline = time.monotonic() + wait_s
    body: Any = None
    while time.monotonic() < deadline:
        status, body = controller.get("/api/flows")
        if status == 200 and isinstance(body, dict) and ready(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{what} not seen in GET /api/flows within {wait_s}s; last: {body}")


def inputs_at(record: dict[str, Any], node: str) -> list[str]:
    """The values of the inputs the call gave at ``node``, in order."""
    return [i["value"] for i in record["inputs"] if i["node"] == node]


def newest_call(controller: ControllerProcess, *, caller: str, wait_s: float = 10.0) -> dict[str, Any]:
    """The newest call record from ``caller`` once it has ended (the record is written behind)."""
    deadline = time.monotonic() + wait_s
    last: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        for record in controller.calls(limit=20):
            if record["caller"]["number"] == caller:
                last = record
                break
        if last is not None and last["ended_at"] is not None:
            return last
        time.sleep(0.2)
    raise AssertionError(f"no ended call from {caller} within {wait_s}s; last seen: {last}")


def dtmf_values(record: dict[str, Any]) -> list[str]:
    return [i["value"] for i in record["inputs"] if i["kind"] == "dtmf"]
