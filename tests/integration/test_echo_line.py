"""The foundation demo line (number 100) on the real Asterisk, with real SIP calls from SIPp."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call, dtmf_values, newest_call

pytestmark = pytest.mark.asterisk


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_digits_are_collected_read_back_and_recorded(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    result = await call(pbx, tmp_path, service="100", digits="4271#", lead_silence_s=5.0, caller="0311110001")
    assert result.ok, result.describe()  # the controller hung up (BYE) after the readback

    record = newest_call(controller, caller="0311110001")
    assert dtmf_values(record) == ["4271"]
    assert record["flow"] == "echo"
    assert record["outcome"] == "completed"
    assert record["hangup_cause"] == "ivr hung up"
    assert record["path"][:3] == ["hello", "digits", "readback"]
    started, answered, ended = (_ts(record[k]) for k in ("started_at", "answered_at", "ended_at"))
    assert started <= answered < ended
    # The readback really played: the call lasted past the greeting + digits + "you entered 4 2 7 1".
    assert (ended - answered).total_seconds() > 6


async def test_caller_who_presses_nothing(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    result = await call(pbx, tmp_path, service="100", digits="", trailing_silence_s=20.0, caller="0311110002")
    assert result.ok, result.describe()
    record = newest_call(controller, caller="0311110002")
    assert dtmf_values(record) == []
    assert record["ended_at"] is not None
    assert record["path"][-1] == "bye"  # the collect timeout took the failure path, then goodbye


async def test_caller_who_presses_garbage(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    result = await call(pbx, tmp_path, service="100", digits="*#*#", lead_silence_s=5.0, caller="0311110003")
    assert result.ok, result.describe()
    record = newest_call(controller, caller="0311110003")
    assert record["ended_at"] is not None
    # "*" then the terminator "#" make the input "*"; the second "*#" comes during the read-back.
    assert dtmf_values(record) == ["*"]
    assert record["path"] == ["hello", "digits", "readback", "bye"]
    assert record["outcome"] == "completed"


async def test_caller_hangs_up_mid_prompt(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    result = await call(
        pbx,
        tmp_path,
        service="100",
        scenario="caller_hangs_up",
        keys={"hangup_ms": "1500"},
        caller="0311110004",
    )
    assert result.ok, result.describe()
    record = newest_call(controller, caller="0311110004")
    assert record["outcome"] == "abandoned"
    assert record["hangup_cause"].startswith("caller hung up")
    assert record["path"] == ["hello"]
    assert record["ended_at"] is not None


@pytest.mark.parametrize(
    ("number", "display"),
    [
        ("0311110005", "Robert'); DROP TABLE calls;--"),
        ("0311110006", "<script>alert(1)</script> & <b>"),
        ("0311110007", "山田 太郎"),
    ],
)
async def test_hostile_caller_names_are_stored_verbatim(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path, number: str, display: str
) -> None:
    before = {c["id"] for c in controller.calls(limit=500)}
    result = await call(
        pbx, tmp_path, service="100", digits="1#", lead_silence_s=5.0, caller=number, display=display
    )
    assert result.ok, result.describe()
    record = newest_call(controller, caller=number)
    assert record["caller"]["name"] == display
    after = {c["id"] for c in controller.calls(limit=500)}
    assert before <= after and record["id"] in after - before  # every earlier call is still there


async def test_quoted_display_name_round_trips(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    from ivr.testing.sipp import quote_display

    result = await call(
        pbx,
        tmp_path,
        service="100",
        digits="1#",
        lead_silence_s=5.0,
        caller="0311110008",
        display=quote_display('Say "hi" \\ bye'),
    )
    assert result.ok, result.describe()
    record = newest_call(controller, caller="0311110008")
    assert record["caller"]["name"] == 'Say "hi" \\ bye'
