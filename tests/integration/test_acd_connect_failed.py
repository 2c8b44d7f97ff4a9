"""An operator whose phone answers and hangs up at once, while the ACD bridges it with the caller (the
load bench saw it when a busy controller bridged late): the caller is never stranded "connected" to
nobody — it waits again at its place and the next operator takes it; the operator is free, not paused."""

from __future__ import annotations

from pathlib import Path

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call, newest_call
from tests.integration.phones import agent, available, log_out, register


async def test_an_operator_hanging_up_as_it_answers_hands_the_caller_to_the_next(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    dropper = await register(pbx, "3106", answer_ms=300, talk_ms=0)  # BYE right after the ACK
    backup = await register(pbx, "3107", answer_ms=500, talk_ms=2000)
    try:
        await available(controller, "3106", "3107")
        handled_before = agent(controller, "3106")["calls_handled"]
        result = await call(
            pbx, tmp_path, service="7704", caller="0312220091", trailing_silence_s=25, timeout_s=70
        )
        assert result.ok, result.describe()  # not left on hold until the caller gives up
        record = newest_call(controller, caller="0312220091")
        offers = [(o["agent"], o["outcome"]) for o in record["offers"]]
        assert offers[0][0] == "3106" and offers[0][1].startswith("failed:"), offers
        assert offers[-1] == ("3107", "answered"), offers
        assert (record["agent"], record["outcome"]) == ("3107", "completed"), record
        dropped = agent(controller, "3106")
        assert dropped["state"] == "available", dropped  # freed at once, never paused
        assert dropped["calls_handled"] == handled_before  # a call it never had is not counted
        await dropper.hang_up()
        assert (await backup.hang_up()).successful == 1
    finally:
        await log_out(controller, pbx, "3106", "3107")
