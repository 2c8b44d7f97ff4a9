"""``to_flow_event``: ARI events → flow events for one call (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from ivr.ari.events import AriEvent, parse_event
from ivr.calls.translate import playback_id, to_flow_event
from ivr.flows.events import DtmfReceived, PlaybackDone
from tests.ari import samples


def ari(kind: str, **fields: Any) -> AriEvent:
    return parse_event({**samples.EVENTS[kind], **fields})


def dtmf(digit: str) -> AriEvent:
    return ari("ChannelDtmfReceived", digit=digit)


def finished(playback_id_: str) -> AriEvent:
    return ari(
        "PlaybackFinished", playback={**samples.EVENTS["PlaybackFinished"]["playback"], "id": playback_id_}
    )


@pytest.mark.parametrize("digit", list("0123456789*#ABCD"))
def test_every_dtmf_key_reaches_the_flow(digit: str) -> None:
    assert to_flow_event(dtmf(digit), call_id="c1") == DtmfReceived(digit)


def test_lower_case_letter_keys_are_normalised() -> None:
    assert to_flow_event(dtmf("b"), call_id="c1") == DtmfReceived("B")


@pytest.mark.parametrize("digit", ["", "12", "E", "x", "!", " ", "1#", "１", "٣", "\n"])
def test_a_digit_that_is_not_a_dtmf_key_is_dropped(digit: str) -> None:
    assert to_flow_event(dtmf(digit), call_id="c1") is None


def test_playback_of_this_call_becomes_playback_done() -> None:
    event = finished(playback_id("c1", "play-3"))
    assert to_flow_event(event, call_id="c1") == PlaybackDone("play-3", stopped=False)
    assert to_flow_event(event, call_id="c1", stopped={"play-3"}) == PlaybackDone("play-3", stopped=True)


def test_playback_of_another_call_or_not_ours_means_nothing() -> None:
    assert to_flow_event(finished(playback_id("c2", "play-3")), call_id="c1") is None
    assert to_flow_event(finished("pb-1"), call_id="c1") is None


def test_playback_ids_of_different_calls_differ() -> None:
    assert playback_id("c1", "play-1") != playback_id("c2", "play-1")


@pytest.mark.parametrize("kind", ["StasisStart", "StasisEnd", "ChannelStateChange", "PlaybackStarted"])
def test_other_events_mean_nothing_to_the_flow(kind: str) -> None:
    assert to_flow_event(ari(kind), call_id="c1") is None
