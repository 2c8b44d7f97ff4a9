"""Helpers for placing real SIP calls at the test Asterisk and reading their records back."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

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
