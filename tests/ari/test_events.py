from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from ivr.ari import events as ev
from ivr.ari.events import UnknownEvent, channel_id_of, parse_event
from ivr.ari.models import Channel, LiveRecording, Playback, parse_time
from tests.ari import samples

CALLER = "1732410123.42"


@pytest.mark.parametrize("kind", sorted(samples.EVENTS))
def test_every_known_event_parses_to_its_class(kind: str) -> None:
    data = samples.EVENTS[kind]
    event = parse_event(data)
    assert type(event).__name__ == kind
    assert event.type == kind
    assert event.application == "ivr"
    assert event.timestamp == datetime(2026, 11, 24, 1, 2, 3, 500000, tzinfo=UTC)
    assert event.raw is data


def test_known_event_types_are_all_sampled() -> None:
    assert set(samples.EVENTS) == ev.KNOWN_EVENT_TYPES


def test_endpoint_state_change_names_the_phone() -> None:
    event = parse_event(samples.EVENTS["EndpointStateChange"])
    assert isinstance(event, ev.EndpointStateChange)
    assert (event.endpoint.technology, event.endpoint.resource, event.endpoint.state) == (
        "PJSIP",
        "2101",
        "online",
    )
    assert ev.channel_id_of(event) is None


def test_stasis_start_fields() -> None:
    event = parse_event(samples.EVENTS["StasisStart"])
    assert isinstance(event, ev.StasisStart)
    assert event.args == ("inbound", "0120444444")
    ch = event.channel
    assert ch.id == CALLER
    assert ch.name == "PJSIP/trunk-0000002a"
    assert ch.state == "Ring"
    assert (ch.caller.name, ch.caller.number) == ("Hanako Yamada", "0312345678")
    assert ch.dialplan.exten == "0120444444"
    assert ch.dialplan.priority == 2
    assert ch.language == "ja"
    assert ch.channelvars == {"CALLERID(num)": "0312345678"}
    assert ch.creationtime == datetime(2026, 11, 24, 1, 2, 3, 456000, tzinfo=UTC)
    assert event.replace_channel is None


def test_field_values_of_other_events() -> None:
    dtmf = parse_event(samples.EVENTS["ChannelDtmfReceived"])
    assert isinstance(dtmf, ev.ChannelDtmfReceived)
    assert (dtmf.digit, dtmf.duration_ms) == ("4", 120)
    hup = parse_event(samples.EVENTS["ChannelHangupRequest"])
    assert isinstance(hup, ev.ChannelHangupRequest)
    assert (hup.cause, hup.soft) == (16, False)
    gone = parse_event(samples.EVENTS["ChannelDestroyed"])
    assert isinstance(gone, ev.ChannelDestroyed)
    assert (gone.cause, gone.cause_txt) == (16, "Normal Clearing")
    pb = parse_event(samples.EVENTS["PlaybackFinished"])
    assert isinstance(pb, ev.PlaybackFinished)
    assert (pb.playback.id, pb.playback.state, pb.playback.media_uri) == ("pb-1", "done", "sound:hello-world")
    rec = parse_event(samples.EVENTS["RecordingFailed"])
    assert isinstance(rec, ev.RecordingFailed)
    assert (rec.recording.state, rec.recording.cause, rec.recording.duration) == (
        "failed",
        "Could not open file",
        7,
    )
    dial = parse_event(samples.EVENTS["Dial"])
    assert isinstance(dial, ev.Dial)
    assert (dial.dialstatus, dial.peer.id, dial.peer.state) == ("RINGING", "1732410130.44", "Ringing")
    assert dial.caller is not None and dial.caller.id == CALLER
    entered = parse_event(samples.EVENTS["ChannelEnteredBridge"])
    assert isinstance(entered, ev.ChannelEnteredBridge)
    assert entered.bridge.id == "b-7f3a"


def test_unknown_type_kept_raw() -> None:
    data: dict[str, Any] = {
        "type": "ChannelVarset",
        "timestamp": "2026-11-24T01:02:03.500+0000",
        "application": "ivr",
        "variable": "X",
        "value": "1",
        "channel": samples.channel(),
    }
    event = parse_event(data)
    assert isinstance(event, UnknownEvent)
    assert event.type == "ChannelVarset"
    assert event.error is None
    assert event.raw is data
    assert event.application == "ivr"
    assert channel_id_of(event) == CALLER


@pytest.mark.parametrize(
    ("kind", "breakage"),
    [
        ("StasisStart", lambda d: d.pop("channel")),
        ("StasisStart", lambda d: d["channel"].pop("id")),
        ("StasisStart", lambda d: d.__setitem__("args", "not-a-list")),
        ("ChannelDtmfReceived", lambda d: d.pop("digit")),
        ("PlaybackStarted", lambda d: d.__setitem__("playback", ["x"])),
        ("RecordingFinished", lambda d: d["recording"].pop("name")),
        ("ChannelLeftBridge", lambda d: d.pop("bridge")),
        ("Dial", lambda d: d.pop("peer")),
        ("StasisEnd", lambda d: d.__setitem__("channel", None)),
    ],
)
def test_malformed_known_event_becomes_unknown(kind: str, breakage: Any) -> None:
    data = copy.deepcopy(samples.EVENTS[kind])
    breakage(data)
    event = parse_event(data)
    assert isinstance(event, UnknownEvent)
    assert event.type == kind
    assert event.raw is data
    assert event.error


@pytest.mark.parametrize(
    "data",
    [{}, {"type": None}, {"type": 5, "timestamp": 7}, {"type": "StasisStart", "timestamp": "yesterday"}],
)
def test_garbage_never_raises(data: dict[str, Any]) -> None:
    event = parse_event(data)
    assert isinstance(event, UnknownEvent)


def test_non_dict_never_raises() -> None:
    event = parse_event(["not", "a", "dict"])  # type: ignore[arg-type]
    assert isinstance(event, UnknownEvent)
    assert event.error


def test_missing_optional_fields_are_tolerated() -> None:
    data = {"type": "StasisStart", "channel": {"id": "c9"}}
    event = parse_event(data)
    assert isinstance(event, ev.StasisStart)
    assert event.channel.id == "c9"
    assert event.channel.caller.number == ""
    assert event.channel.creationtime is None
    assert event.timestamp is None
    assert event.args == ()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("StasisStart", CALLER),
        ("StasisEnd", CALLER),
        ("ChannelDtmfReceived", CALLER),
        ("ChannelStateChange", CALLER),
        ("ChannelHangupRequest", CALLER),
        ("ChannelDestroyed", CALLER),
        ("PlaybackStarted", CALLER),
        ("PlaybackFinished", CALLER),
        ("RecordingFinished", CALLER),
        ("RecordingFailed", CALLER),
        ("ChannelEnteredBridge", CALLER),
        ("ChannelLeftBridge", CALLER),
        ("Dial", "1732410130.44"),
    ],
)
def test_channel_id_of(kind: str, expected: str) -> None:
    assert channel_id_of(parse_event(samples.EVENTS[kind])) == expected


def test_channel_id_of_unknown_playback_event() -> None:
    data = {"type": "PlaybackContinuing", "playback": samples.PLAYBACK}
    assert channel_id_of(parse_event(data)) == CALLER


def test_channel_id_of_bridge_playback_is_none() -> None:
    data = copy.deepcopy(samples.EVENTS["PlaybackStarted"])
    data["playback"]["target_uri"] = "bridge:b-7f3a"
    assert channel_id_of(parse_event(data)) is None
    assert channel_id_of(parse_event({"type": "BridgeCreated"})) is None


def test_parse_time() -> None:
    assert parse_time("2026-11-24T01:02:03.456+0000") == datetime(2026, 11, 24, 1, 2, 3, 456000, tzinfo=UTC)
    assert parse_time("2026-11-24T10:02:03.456+0900") == datetime(
        2026, 11, 24, 10, 2, 3, 456000, tzinfo=timezone(timedelta(hours=9))
    )
    assert parse_time("2026-11-24T01:02:03") is None  # naive: not trusted
    assert parse_time("garbage") is None
    assert parse_time(None) is None


def test_models_are_frozen_and_require_ids() -> None:
    ch = Channel.from_json(samples.channel())
    with pytest.raises(AttributeError):
        ch.id = "x"  # type: ignore[misc]
    with pytest.raises(ValueError, match="Channel"):
        Channel.from_json({"name": "x"})
    with pytest.raises(ValueError, match="Playback"):
        Playback.from_json("nope")
    assert LiveRecording.from_json({"name": "r"}).duration is None
