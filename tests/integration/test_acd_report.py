"""After an operator's call: the survey on the real Asterisk, and the report showing that very call."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call_keys, newest_call
from tests.integration.phones import available, log_out, register


def _report(controller: ControllerProcess, since: str) -> dict[str, Any]:
    status, body = controller.get(f"/api/report?since={since}")
    assert status == 200, body
    return dict(body)


def _queue(report: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(
        report["queues"].get(name) or {"answered": 0, "csat": {"responses": 0}, "ring_distribution": {}}
    )


async def test_survey_after_the_operator_and_the_report_counts_the_call(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = _queue(_report(controller, since), "t_returns")
    phone = await register(pbx, "3101", answer_ms=600, talk_ms=2000)
    try:
        await available(controller, "3101")
        result = await call_keys(
            pbx, tmp_path, service="7709", groups=[7.0, "4"], caller="0312229801", trailing_silence_s=15
        )
        assert result.ok, result.describe()
        record = newest_call(controller, caller="0312229801")
        assert record["path"][-2:] == ["survey/ask", "survey/thanks"], record["path"]
        assert (record["agent"], record["outcome"]) == ("3101", "completed")
        assert record["rings"] is not None and record["rings"] <= 1.0
        await phone.hang_up()
    finally:
        await log_out(controller, pbx, "3101")

    after = _queue(_report(controller, since), "t_returns")
    assert after["answered"] == before["answered"] + 1
    assert after["csat"]["responses"] == before["csat"]["responses"] + 1
    assert after["ring_distribution"]["1"] == before["ring_distribution"].get("1", 0) + 1
    assert after["answered_within_target"] >= 1

    cli = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ivr.cli", "report", "--since", since, "--json"],
        env={**pbx.env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    from_cli = json.loads(cli.stdout)
    assert _queue(from_cli, "t_returns")["answered"] == after["answered"]  # the same report
