"""ARI resource models (the JSON objects Asterisk returns and embeds in events).

Each model is a frozen dataclass with ``from_json(data)``. Required identity fields (a channel's
``id``, a playback's ``id``, a recording's ``name``…) must be present or ``from_json`` raises
`ValueError`; every other field is optional and defaults to an empty value, so a newer or older
Asterisk that adds or drops fields still parses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

JsonObj = Mapping[str, Any]


def parse_time(value: object) -> datetime | None:
    """Parse an ARI timestamp (``2026-11-24T01:02:03.456+0000``) to an aware datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def obj(data: object, what: str) -> JsonObj:
    """`data` as a JSON object, or ValueError naming `what`."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{what}: expected a JSON object, got {type(data).__name__}")
    return data


def req_str(data: JsonObj, key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what}: missing or invalid {key!r}")
    return value


def opt_str(data: JsonObj, key: str, default: str = "") -> str:
    value = data.get(key)
    if value is None:
        return default
    return value if isinstance(value, str) else str(value)


def opt_int(data: JsonObj, key: str) -> int | None:
    value = data.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def str_tuple(data: JsonObj, key: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list):
        return ()
    return tuple(str(item) for item in value)


@dataclass(frozen=True)
class CallerId:
    name: str = ""
    number: str = ""

    @classmethod
    def from_json(cls, data: object) -> CallerId:
        if not isinstance(data, Mapping):
            return cls()
        return cls(name=opt_str(data, "name"), number=opt_str(data, "number"))


@dataclass(frozen=True)
class Dialplan:
    context: str = ""
    exten: str = ""
    priority: int | None = None
    app_name: str = ""
    app_data: str = ""

    @classmethod
    def from_json(cls, data: object) -> Dialplan:
        if not isinstance(data, Mapping):
            return cls()
        return cls(
            context=opt_str(data, "context"),
            exten=opt_str(data, "exten"),
            priority=opt_int(data, "priority"),
            app_name=opt_str(data, "app_name"),
            app_data=opt_str(data, "app_data"),
        )


@dataclass(frozen=True)
class Channel:
    id: str
    name: str = ""
    state: str = ""
    caller: CallerId = field(default_factory=CallerId)
    connected: CallerId = field(default_factory=CallerId)
    dialplan: Dialplan = field(default_factory=Dialplan)
    creationtime: datetime | None = None
    language: str = ""
    channelvars: Mapping[str, str] = field(default_factory=dict, hash=False)
    protocol_id: str = ""
    accountcode: str = ""

    @classmethod
    def from_json(cls, data: object) -> Channel:
        d = obj(data, "Channel")
        raw_vars = d.get("channelvars")
        channelvars = (
            {str(k): "" if v is None else str(v) for k, v in raw_vars.items()}
            if isinstance(raw_vars, Mapping)
            else {}
        )
        return cls(
            id=req_str(d, "id", "Channel"),
            name=opt_str(d, "name"),
            state=opt_str(d, "state"),
            caller=CallerId.from_json(d.get("caller")),
            connected=CallerId.from_json(d.get("connected")),
            dialplan=Dialplan.from_json(d.get("dialplan")),
            creationtime=parse_time(d.get("creationtime")),
            language=opt_str(d, "language"),
            channelvars=channelvars,
            protocol_id=opt_str(d, "protocol_id"),
            accountcode=opt_str(d, "accountcode"),
        )


@dataclass(frozen=True)
class Playback:
    id: str
    media_uri: str = ""
    target_uri: str = ""
    state: str = ""
    language: str = ""
    next_media_uri: str = ""

    @classmethod
    def from_json(cls, data: object) -> Playback:
        d = obj(data, "Playback")
        return cls(
            id=req_str(d, "id", "Playback"),
            media_uri=opt_str(d, "media_uri"),
            target_uri=opt_str(d, "target_uri"),
            state=opt_str(d, "state"),
            language=opt_str(d, "language"),
            next_media_uri=opt_str(d, "next_media_uri"),
        )


@dataclass(frozen=True)
class Bridge:
    id: str
    bridge_type: str = ""
    channels: tuple[str, ...] = ()
    technology: str = ""
    bridge_class: str = ""
    name: str = ""
    creationtime: datetime | None = None

    @classmethod
    def from_json(cls, data: object) -> Bridge:
        d = obj(data, "Bridge")
        return cls(
            id=req_str(d, "id", "Bridge"),
            bridge_type=opt_str(d, "bridge_type"),
            channels=str_tuple(d, "channels"),
            technology=opt_str(d, "technology"),
            bridge_class=opt_str(d, "bridge_class"),
            name=opt_str(d, "name"),
            creationtime=parse_time(d.get("creationtime")),
        )


@dataclass(frozen=True)
class Application:
    name: str
    channel_ids: tuple[str, ...] = ()
    bridge_ids: tuple[str, ...] = ()
    endpoint_ids: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Application:
        d = obj(data, "Application")
        return cls(
            name=req_str(d, "name", "Application"),
            channel_ids=str_tuple(d, "channel_ids"),
            bridge_ids=str_tuple(d, "bridge_ids"),
            endpoint_ids=str_tuple(d, "endpoint_ids"),
        )


@dataclass(frozen=True)
class LiveRecording:
    name: str
    state: str = ""
    duration: int | None = None
    format: str = ""
    target_uri: str = ""
    cause: str = ""
    talking_duration: int | None = None
    silence_duration: int | None = None

    @classmethod
    def from_json(cls, data: object) -> LiveRecording:
        d = obj(data, "LiveRecording")
        return cls(
            name=req_str(d, "name", "LiveRecording"),
            state=opt_str(d, "state"),
            duration=opt_int(d, "duration"),
            format=opt_str(d, "format"),
            target_uri=opt_str(d, "target_uri"),
            cause=opt_str(d, "cause"),
            talking_duration=opt_int(d, "talking_duration"),
            silence_duration=opt_int(d, "silence_duration"),
        )


@dataclass(frozen=True)
class Endpoint:
    technology: str
    resource: str
    state: str = ""
    channel_ids: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: object) -> Endpoint:
        d = obj(data, "Endpoint")
        return cls(
            technology=req_str(d, "technology", "Endpoint"),
            resource=req_str(d, "resource", "Endpoint"),
            state=opt_str(d, "state"),
            channel_ids=str_tuple(d, "channel_ids"),
        )
