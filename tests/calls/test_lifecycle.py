from __future__ import annotations

from datetime import datetime

import pytest

from ivr.calls.lifecycle import CallLife, Ending, cause_text, start_adopted, start_new
from tests.calls.harness import Flows, Open, flow

SHOP = flow("name: shop\nentry: a\nnodes:\n  a: {type: say, prompt: hi, next: b}\n  b: {type: hangup}\n")
ECHO = flow("name: echo\nnumbers: ['100']\nentry: x\nnodes:\n  x: {type: hangup}\n")


def flows() -> Flows:
    return Flows({"shop": SHOP, "echo": ECHO}, "shop", {"100": "echo"})


def test_new_call_takes_the_numbers_flow() -> None:
    assert start_new(flows(), "100", "n1").flow is ECHO
    start = start_new(flows(), "0120", "n1")
    assert (start.flow, start.call_id, start.resume_at, start.adopted) == (SHOP, "n1", None, False)


def test_adopted_call_keeps_id_flow_and_resumes_at_last_node() -> None:
    start = start_adopted(flows(), "100", Open("old", "shop", "b"), "n1")
    assert (start.call_id, start.flow, start.resume_at, start.adopted) == ("old", SHOP, "b", True)


def test_adopted_call_whose_flow_or_node_is_gone_falls_back() -> None:
    start = start_adopted(flows(), "100", Open("old", "deleted", "zz"), "n1")
    assert (start.call_id, start.flow, start.resume_at, start.adopted) == ("old", ECHO, None, True)


def test_unknown_channel_starts_afresh() -> None:
    start = start_adopted(flows(), "0120", None, "n1")
    assert (start.call_id, start.adopted, start.resume_at) == ("n1", False, None)


@pytest.mark.parametrize(
    ("flow_outcome", "finished", "failed", "expected"),
    [
        ("voicemail", False, False, "voicemail"),
        ("callback", True, True, "callback"),
        (None, False, False, "abandoned"),
        (None, True, False, "completed"),
        (None, False, True, "failed"),
        ("bogus", True, False, "completed"),
    ],
)
def test_outcome(flow_outcome: str | None, finished: bool, failed: bool, expected: str) -> None:
    life = CallLife(failed=failed)
    ending = life.ending(flow_finished=finished, flow_outcome=flow_outcome)
    assert ending is not None and ending.outcome == expected


def test_cause_who_hung_up() -> None:
    assert CallLife(we_hung_up=True).ending(flow_finished=True, flow_outcome=None).cause == "ivr hung up"  # type: ignore[union-attr]
    assert CallLife(failed=True).ending(flow_finished=False, flow_outcome=None).cause == "controller failure"  # type: ignore[union-attr]
    life = CallLife()
    life.hangup_reported(cause_text(16), destroyed=False)
    assert life.ending(flow_finished=False, flow_outcome=None).cause == "caller hung up (16 normal clearing)"  # type: ignore[union-attr]
    assert CallLife().ending(flow_finished=False, flow_outcome=None).cause == "caller hung up"  # type: ignore[union-attr]


def test_our_own_hangup_keeps_ivr_as_cause() -> None:
    life = CallLife(we_hung_up=True)
    life.hangup_reported(cause_text(16), destroyed=True)
    assert life.cause is None
    assert life.channel_gone


def test_hangup_stops_flow_events_and_end_is_recorded_once() -> None:
    life = CallLife()
    assert life.accepts_flow_events()
    life.hangup_reported(None, destroyed=False)
    assert not life.accepts_flow_events()
    assert not life.should_end()
    assert life.ending(flow_finished=False, flow_outcome=None) is not None
    assert life.ending(flow_finished=False, flow_outcome=None) is None


def test_detaching_records_no_end() -> None:
    assert CallLife(detached=True).ending(flow_finished=False, flow_outcome=None) is None


def test_must_hang_up_only_once_and_not_when_gone() -> None:
    assert CallLife().must_hang_up(True)
    assert not CallLife().must_hang_up(False)
    assert not CallLife(we_hung_up=True).must_hang_up(True)
    assert not CallLife(channel_gone=True).must_hang_up(True)


def test_cause_text_unknown_code() -> None:
    assert cause_text(None) is None
    assert cause_text(99) == "caller hung up (99)"
    assert cause_text(99, "odd") == "caller hung up (99 odd)"


def test_adopted_waiting_caller_keeps_its_queue_and_arrival() -> None:
    at = datetime(2026, 12, 1, 9, 0)
    start = start_adopted(flows(), "0120", Open("old", "shop", "a", "orders", at), "n1")
    assert start.queued == ("orders", at)
    assert start_adopted(flows(), "0120", Open("old", "shop", "a"), "n1").queued is None


def test_a_channel_missing_after_a_reported_hangup_is_the_end() -> None:
    life = CallLife()
    life.hangup_reported("caller hung up (16 Normal Clearing)", destroyed=False)
    life.channel_missing()
    assert life.should_end()
    assert life.ending(flow_finished=False, flow_outcome=None) == Ending(
        "abandoned", "caller hung up (16 Normal Clearing)"
    )


def test_a_channel_missing_without_a_hangup_waits_for_the_reason() -> None:
    life = CallLife()
    life.channel_missing()
    assert not life.should_end()  # the StasisEnd, or the resync's verdict, is on its way
    assert not life.accepts_flow_events()
    life.gone_at_resync("Asterisk restarted")
    assert life.should_end()
    assert life.ending(flow_finished=False, flow_outcome=None) == Ending("abandoned", "Asterisk restarted")


def test_gone_at_resync_without_a_known_reason_is_a_caller_hangup() -> None:
    life = CallLife()
    life.gone_at_resync(None)
    assert life.should_end()
    assert life.ending(flow_finished=False, flow_outcome=None) == Ending("abandoned", "caller hung up")
