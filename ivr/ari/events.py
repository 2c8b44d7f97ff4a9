"""ARI events (the JSON messages of the events WebSocket) as typed, frozen dataclasses.

`parse_event` never raises: a type this module does not model, or a known type whose body is
malformed (e.g. a ``StasisStart`` without a channel id), becomes `UnknownEvent` carrying the type,
the raw message and, for malformed bodies, the parse error. Every event keeps the raw message in
``raw`` so nothing Asterisk sent is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ivr.ari.models import (
    Bridge,
    Channel,
    Endpoint,
    JsonObj,
    LiveRecording,
    Playback,
    obj,
    opt_int,
    opt_str,
    parse_time,
    req_str,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class AriEvent:
    """Fields every ARI event has."""

    type: str
    application: str = ""
    timestamp: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(AriEvent):
    """An event type not modelled here, or a known type that failed to parse (`error` says why)."""

    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class StasisStart(AriEvent):
    channel: Channel
    args: tuple[str, ...] = ()
    replace_channel: Channel | None = None


@dataclass(frozen=True, kw_only=True)
class StasisEnd(AriEvent):
    channel: Channel


@dataclass(frozen=True, kw_only=True)
class ChannelDtmfReceived(AriEvent):
    channel: Channel
    digit: str
    duration_ms: int | None = None


@dataclass(frozen=True, kw_only=True)
class ChannelStateChange(AriEvent):
    channel: Channel


@dataclass(frozen=True, kw_only=True)
class ChannelHangupRequest(AriEvent):
    channel: Channel
    cause: int | None = None
    soft: bool = False


@dataclass(frozen=True, kw_only=True)
class ChannelDestroyed(AriEvent):
    channel: Channel
    cause: int | None = None
    cause_txt: str = ""


@dataclass(frozen=True, kw_only=True)
class PlaybackStarted(AriEvent):
    playback: Playback


@dataclass(frozen=True, kw_only=True)
class PlaybackFinished(AriEvent):
    playback: Playback


@dataclass(frozen=True, kw_only=True)
class RecordingFinished(AriEvent):
    recording: LiveRecording


@dataclass(frozen=True, kw_only=True)
class RecordingFailed(AriEvent):
    recording: LiveRecording


@dataclass(frozen=True, kw_only=True)
class ChannelEnteredBridge(AriEvent):
    bridge: Bridge
    channel: Channel | None = None


@dataclass(frozen=True, kw_only=True)
class ChannelLeftBridge(AriEvent):
    bridge: Bridge
    channel: Channel


@dataclass(frozen=True, kw_only=True)
class Dial(AriEvent):
    peer: Channel
    caller: Channel | None = None
    dialstatus: str = ""
    dialstring: str = ""
    forward: str = ""


@dataclass(frozen=True, kw_only=True)
class EndpointStateChange(AriEvent):
    """An endpoint (an operator's phone) came online or went offline; needs a subscription to
    ``endpoint:PJSIP`` (``applications.subscribe``)."""

    endpoint: Endpoint


@dataclass(frozen=True, kw_only=True)
class DeviceStateChanged(AriEvent):
    """A device's state (``PJSIP/2101``: NOT_INUSE, INUSE, RINGING, UNAVAILABLE…); needs a subscription
    to ``deviceState:PJSIP/2101``. UNAVAILABLE means the phone is not registered."""

    name: str
    state: str


def _opt_channel(d: JsonObj, key: str) -> Channel | None:
    value = d.get(key)
    return None if value is None else Channel.from_json(value)


def _args(d: JsonObj) -> tuple[str, ...]:
    value = d.get("args", [])
    if not isinstance(value, list):
        raise ValueError("StasisStart: 'args' is not a list")
    return tuple(str(a) for a in value)


def _common(d: JsonObj) -> dict[str, Any]:
    return {
        "type": opt_str(d, "type"),
        "application": opt_str(d, "application"),
        "timestamp": parse_time(d.get("timestamp")),
        "raw": d,
    }


_Parser = Callable[[JsonObj], AriEvent]

_PARSERS: dict[str, _Parser] = {
    "StasisStart": lambda d: StasisStart(
        **_common(d),
        channel=Channel.from_json(d.get("channel")),
        args=_args(d),
        replace_channel=_opt_channel(d, "replace_channel"),
    ),
    "StasisEnd": lambda d: StasisEnd(**_common(d), channel=Channel.from_json(d.get("channel"))),
    "ChannelDtmfReceived": lambda d: ChannelDtmfReceived(
        **_common(d),
        channel=Channel.from_json(d.get("channel")),
        digit=req_str(d, "digit", "ChannelDtmfReceived"),
        duration_ms=opt_int(d, "duration_ms"),
    ),
    "ChannelStateChange": lambda d: ChannelStateChange(
        **_common(d), channel=Channel.from_json(d.get("channel"))
    ),
    "ChannelHangupRequest": lambda d: ChannelHangupRequest(
        **_common(d),
        channel=Channel.from_json(d.get("channel")),
        cause=opt_int(d, "cause"),
        soft=d.get("soft") is True,
    ),
    "ChannelDestroyed": lambda d: ChannelDestroyed(
        **_common(d),
        channel=Channel.from_json(d.get("channel")),
        cause=opt_int(d, "cause"),
        cause_txt=opt_str(d, "cause_txt"),
    ),
    "PlaybackStarted": lambda d: PlaybackStarted(
        **_common(d), playback=Playback.from_json(d.get("playback"))
    ),
    "PlaybackFinished": lambda d: PlaybackFinished(
        **_common(d), playback=Playback.from_json(d.get("playback"))
    ),
    "RecordingFinished": lambda d: RecordingFinished(
        **_common(d), recording=LiveRecording.from_json(d.get("recording"))
    ),
    "RecordingFailed": lambda d: RecordingFailed(
        **_common(d), recording=LiveRecording.from_json(d.get("recording"))
    ),
    "ChannelEnteredBridge": lambda d: ChannelEnteredBridge(
        **_common(d), bridge=Bridge.from_json(d.get("bridge")), channel=_opt_channel(d, "channel")
    ),
    "ChannelLeftBridge": lambda d: ChannelLeftBridge(
        **_common(d), bridge=Bridge.from_json(d.get("bridge")), channel=Channel.from_json(d.get("channel"))
    ),
    "EndpointStateChange": lambda d: EndpointStateChange(
        **_common(d), endpoint=Endpoint.from_json(d.get("endpoint"))
    ),
    "DeviceStateChanged": lambda d: DeviceStateChanged(
        **_common(d),
        name=req_str(obj(d.get("device_state"), "DeviceState"), "name", "DeviceState"),
        state=opt_str(obj(d.get("device_state"), "DeviceState"), "state"),
    ),
    "Dial": lambda d: Dial(
        **_common(d),
        peer=Channel.from_json(d.get("peer")),
        caller=_opt_channel(d, "caller"),
        dialstatus=opt_str(d, "dialstatus"),
        dialstring=opt_str(d, "dialstring"),
        forward=opt_str(d, "forward"),
    ),
}

KNOWN_EVENT_TYPES = frozenset(_PARSERS)


def parse_event(data: Mapping[str, Any]) -> AriEvent:
    """The typed event for one decoded WebSocket message. Never raises."""
    if not isinstance(data, Mapping):
        return UnknownEvent(type="", raw={"value": data}, error="event is not a JSON object")
    raw_type = data.get("type")
    event_type = raw_type if isinstance(raw_type, str) else ""
    parser = _PARSERS.get(event_type)
    error: str | None
    if parser is not None:
        try:
            return parser(data)
        except Exception as exc:  # never raise: a malformed known event is kept raw
            log.warning("malformed ARI %s event: %s", event_type, exc)
            error = f"{type(exc).__name__}: {exc}"
    else:
        error = None if event_type else "event has no 'type'"
    try:
        common = _common(data)
    except Exception:  # pragma: no cover - _common only reads with tolerant helpers
        common = {"type": event_type, "raw": data}
    common["type"] = event_type
    return UnknownEvent(**common, error=error)


def _channel_from_uri(uri: str) -> str | None:
    kind, sep, ident = uri.partition(":")
    return ident if sep and kind == "channel" and ident else None


def channel_id_of(event: AriEvent) -> str | None:
    """The id of the channel `event` is about, or None (e.g. a playback on a bridge).

    Playbacks and recordings name their channel in ``target_uri`` (``channel:<id>``); `Dial` is
    about its ``peer`` (the channel being dialled); an `UnknownEvent` is searched for ``channel.id``
    and then a playback's or recording's ``target_uri`` (e.g. ``PlaybackContinuing``).
    """
    if isinstance(event, PlaybackStarted | PlaybackFinished):
        return _channel_from_uri(event.playback.target_uri)
    if isinstance(event, RecordingFinished | RecordingFailed):
        return _channel_from_uri(event.recording.target_uri)
    if isinstance(event, Dial):
        return event.peer.id
    channel = getattr(event, "channel", None)
    if isinstance(channel, Channel):
        return channel.id
    if isinstance(event, UnknownEvent):
        raw_channel = event.raw.get("channel")
        if isinstance(raw_channel, Mapping):
            ident = raw_channel.get("id")
            if isinstance(ident, str) and ident:
                return ident
        for key in ("playback", "recording"):  # e.g. PlaybackContinuing
            target = event.raw.get(key)
            if isinstance(target, Mapping) and isinstance(target.get("target_uri"), str):
                return _channel_from_uri(target["target_uri"])
    return None
