"""Realistic ARI JSON, shaped like Asterisk 22 sends it (rest-api/api-docs models)."""

from __future__ import annotations

import copy
from typing import Any

CHANNEL: dict[str, Any] = {
    "id": "1732410123.42",
    "name": "PJSIP/trunk-0000002a",
    "state": "Ring",
    "protocol_id": "3c2f8e7a-1b2c@127.0.0.1",
    "caller": {"name": "Hanako Yamada", "number": "0312345678"},
    "connected": {"name": "", "number": ""},
    "accountcode": "",
    "dialplan": {
        "context": "from-trunk",
        "exten": "0120444444",
        "priority": 2,
        "app_name": "Stasis",
        "app_data": "ivr",
    },
    "creationtime": "2026-11-24T01:02:03.456+0000",
    "language": "ja",
    "channelvars": {"CALLERID(num)": "0312345678"},
}

BRIDGE: dict[str, Any] = {
    "id": "b-7f3a",
    "technology": "simple_bridge",
    "bridge_type": "mixing",
    "bridge_class": "stasis",
    "creator": "Stasis",
    "name": "",
    "channels": ["1732410123.42", "1732410130.44"],
    "creationtime": "2026-11-24T01:02:10.001+0000",
    "video_mode": "none",
}

PLAYBACK: dict[str, Any] = {
    "id": "pb-1",
    "media_uri": "sound:hello-world",
    "next_media_uri": "digits:4271",
    "target_uri": "channel:1732410123.42",
    "language": "en",
    "state": "playing",
}

RECORDING: dict[str, Any] = {
    "name": "voicemail/1732410123.42",
    "format": "wav",
    "state": "done",
    "target_uri": "channel:1732410123.42",
    "duration": 7,
    "talking_duration": 5,
    "silence_duration": 2,
}


def channel(**overrides: Any) -> dict[str, Any]:
    data = copy.deepcopy(CHANNEL)
    data.update(overrides)
    return data


def _event(kind: str, **body: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "timestamp": "2026-11-24T01:02:03.500+0000",
        "application": "ivr",
        "asterisk_id": "02:42:ac:11:00:02",
        **body,
    }


EVENTS: dict[str, dict[str, Any]] = {
    "StasisStart": _event("StasisStart", args=["inbound", "0120444444"], channel=channel()),
    "StasisEnd": _event("StasisEnd", channel=channel(state="Up")),
    "ChannelDtmfReceived": _event(
        "ChannelDtmfReceived", digit="4", duration_ms=120, channel=channel(state="Up")
    ),
    "ChannelStateChange": _event("ChannelStateChange", channel=channel(state="Up")),
    "ChannelHangupRequest": _event("ChannelHangupRequest", cause=16, soft=False, channel=channel()),
    "ChannelDestroyed": _event(
        "ChannelDestroyed", cause=16, cause_txt="Normal Clearing", channel=channel(state="Up")
    ),
    "PlaybackStarted": _event("PlaybackStarted", playback=PLAYBACK),
    "PlaybackFinished": _event("PlaybackFinished", playback={**PLAYBACK, "state": "done"}),
    "RecordingFinished": _event("RecordingFinished", recording=RECORDING),
    "RecordingFailed": _event(
        "RecordingFailed", recording={**RECORDING, "state": "failed", "cause": "Could not open file"}
    ),
    "ChannelEnteredBridge": _event("ChannelEnteredBridge", bridge=BRIDGE, channel=channel(state="Up")),
    "ChannelLeftBridge": _event("ChannelLeftBridge", bridge=BRIDGE, channel=channel(state="Up")),
    "EndpointStateChange": _event(
        "EndpointStateChange",
        endpoint={"technology": "PJSIP", "resource": "2101", "state": "online", "channel_ids": []},
    ),
    "DeviceStateChanged": _event(
        "DeviceStateChanged", device_state={"name": "PJSIP/2101", "state": "NOT_INUSE"}
    ),
    "Dial": _event(
        "Dial",
        dialstatus="RINGING",
        dialstring="agent-101",
        forward="",
        peer=channel(id="1732410130.44", name="PJSIP/agent-101-0000002c", state="Ringing"),
        caller=channel(state="Up"),
    ),
}
