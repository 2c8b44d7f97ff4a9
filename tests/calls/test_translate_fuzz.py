"""Hostile DTMF and playback events: ``to_flow_event`` gives a valid key, this call's playback, or
nothing; never an exception, never a key a verb does not expect."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from ivr.ari.events import parse_event
from ivr.calls.translate import VALID_DTMF, playback_id, to_flow_event
from ivr.flows.events import DtmfReceived, PlaybackDone
from tests.ari.samples import CHANNEL, PLAYBACK

any_text = st.text(max_size=20) | st.sampled_from(["ß", "ﬃ", "\U0001f4de", "\x00", "1\u0301", "Ａ", "ı"])


@given(any_text)
@example("ß")  # upper() is two letters
@example("ﬃ")  # upper() is three
@example("ı")  # upper() is a plain I: not a key
def test_any_digit_is_a_valid_key_or_dropped(digit: str) -> None:
    event = parse_event({"type": "ChannelDtmfReceived", "channel": CHANNEL, "digit": digit})
    result = to_flow_event(event, call_id=CHANNEL["id"])
    if result is not None:
        assert isinstance(result, DtmfReceived)
        assert result.digit in VALID_DTMF and result.digit == digit.upper()


@given(st.lists(st.sampled_from(sorted(VALID_DTMF | {d.lower() for d in VALID_DTMF})), max_size=40))
def test_a_sequence_of_valid_keys_arrives_whole_and_in_order(keys: list[str]) -> None:
    events = [parse_event({"type": "ChannelDtmfReceived", "channel": CHANNEL, "digit": k}) for k in keys]
    got = [to_flow_event(e, call_id="c") for e in events]
    assert [g.digit for g in got if isinstance(g, DtmfReceived)] == [k.upper() for k in keys]


@given(any_text, any_text, any_text, st.sets(any_text, max_size=3))
def test_a_playback_maps_back_only_to_its_own_call(
    call_id: str, other: str, play_id: str, stopped: set[str]
) -> None:
    raw = {"type": "PlaybackFinished", "playback": {**PLAYBACK, "id": playback_id(call_id, play_id)}}
    event = parse_event(raw)
    assert to_flow_event(event, call_id=call_id, stopped=stopped) == PlaybackDone(play_id, play_id in stopped)
    foreign = to_flow_event(event, call_id=other)
    assert foreign is None or f"pb-{call_id}-{play_id}".startswith(f"pb-{other}-")
