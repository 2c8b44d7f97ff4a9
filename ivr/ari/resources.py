"""ARI resource groups: the operations the IVR uses, with Asterisk 22's parameter names.

Each group is reached through `AriClient` (``client.channels.play(...)``) and sends its request
through `AriClient.request`, the only place HTTP happens. Ids are quoted into paths, so any string is
safe. Parameters whose value is None are not sent (Asterisk then uses its own default).

Asterisk's list parameters (``media``, a bridge's ``channel``) are one comma-separated value:
Asterisk's parser keeps only the last of repeated query parameters, so lists are joined with ``,``.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import quote

from ivr.ari.models import Application, Bridge, Channel, Endpoint, LiveRecording, Playback

Params = Mapping[str, str | int | float | bool | None]


class Requester(Protocol):
    async def request(
        self, method: str, path: str, *, params: Params | None = None, json: Any = None
    ) -> Any: ...


def _seg(value: str) -> str:
    """One path segment, percent-quoted (ids may hold any character)."""
    return quote(str(value), safe="")


def _join(values: Sequence[str], what: str) -> str:
    if isinstance(values, str):
        values = [values]
    items = [str(v) for v in values]
    if not items:
        raise ValueError(f"{what}: at least one value is required")
    for item in items:
        if "," in item or not item:
            raise ValueError(f"{what}: {item!r} is empty or contains ',' (Asterisk splits lists on ',')")
    return ",".join(items)


class _Group:
    def __init__(self, requester: Requester) -> None:
        self._r = requester


class Channels(_Group):
    """``/channels``."""

    async def list(self) -> builtins.list[Channel]:
        data = await self._r.request("GET", "/channels")
        return [Channel.from_json(c) for c in data or []]

    async def get(self, id: str) -> Channel:
        return Channel.from_json(await self._r.request("GET", f"/channels/{_seg(id)}"))

    async def answer(self, id: str) -> None:
        await self._r.request("POST", f"/channels/{_seg(id)}/answer")

    async def ring_stop(self, id: str) -> None:
        await self._r.request("DELETE", f"/channels/{_seg(id)}/ring")

    async def ring(self, id: str) -> None:
        await self._r.request("POST", f"/channels/{_seg(id)}/ring")

    async def hangup(self, id: str, reason: str = "normal") -> None:
        await self._r.request("DELETE", f"/channels/{_seg(id)}", params={"reason": reason})

    async def play(
        self, id: str, media: Sequence[str], *, playback_id: str | None = None, lang: str | None = None
    ) -> Playback:
        params = {"media": _join(media, "media"), "playbackId": playback_id, "lang": lang}
        return Playback.from_json(await self._r.request("POST", f"/channels/{_seg(id)}/play", params=params))

    async def originate(
        self,
        endpoint: str,
        *,
        app: str | None = None,
        app_args: str | None = None,
        channel_id: str | None = None,
        caller_id: str | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - Asterisk's ring timeout (seconds), not an asyncio timeout
        variables: Mapping[str, str] | None = None,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
    ) -> Channel:
        params = {
            "endpoint": endpoint,
            "app": app,
            "appArgs": app_args,
            "channelId": channel_id,
            "callerId": caller_id,
            "timeout": timeout,
            "context": context,
            "extension": extension,
            "priority": priority,
        }
        body = {"variables": dict(variables)} if variables else None
        return Channel.from_json(await self._r.request("POST", "/channels", params=params, json=body))

    async def snoop(
        self,
        id: str,
        *,
        app: str,
        spy: str = "in",
        whisper: str = "none",
        snoop_id: str | None = None,
        app_args: str | None = None,
    ) -> Channel:
        params = {"app": app, "spy": spy, "whisper": whisper, "snoopId": snoop_id, "appArgs": app_args}
        return Channel.from_json(await self._r.request("POST", f"/channels/{_seg(id)}/snoop", params=params))

    async def external_media(
        self,
        *,
        app: str,
        external_host: str,
        format: str = "slin16",
        channel_id: str | None = None,
        encapsulation: str = "rtp",
        transport: str = "udp",
        direction: str = "both",
    ) -> Channel:
        params = {
            "app": app,
            "external_host": external_host,
            "format": format,
            "channelId": channel_id,
            "encapsulation": encapsulation,
            "transport": transport,
            "direction": direction,
        }
        return Channel.from_json(await self._r.request("POST", "/channels/externalMedia", params=params))

    async def record(
        self,
        id: str,
        *,
        name: str,
        format: str = "wav",
        max_duration: int = 0,
        max_silence: int = 0,
        beep: bool = False,
        terminate_on: str = "none",
        if_exists: str = "overwrite",
    ) -> LiveRecording:
        params: Params = {
            "name": name,
            "format": format,
            "maxDurationSeconds": max_duration,
            "maxSilenceSeconds": max_silence,
            "beep": beep,
            "terminateOn": terminate_on,
            "ifExists": if_exists,
        }
        data = await self._r.request("POST", f"/channels/{_seg(id)}/record", params=params)
        return LiveRecording.from_json(data)

    async def get_var(self, id: str, name: str) -> str | None:
        data = await self._r.request("GET", f"/channels/{_seg(id)}/variable", params={"variable": name})
        value = data.get("value") if isinstance(data, Mapping) else None
        return None if value is None else str(value)

    async def set_var(self, id: str, name: str, value: str) -> None:
        params = {"variable": name, "value": value}
        await self._r.request("POST", f"/channels/{_seg(id)}/variable", params=params)

    async def continue_in_dialplan(
        self,
        id: str,
        *,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
    ) -> None:
        params: Params = {"context": context, "extension": extension, "priority": priority}
        await self._r.request("POST", f"/channels/{_seg(id)}/continue", params=params)

    async def send_dtmf(self, id: str, dtmf: str) -> None:
        await self._r.request("POST", f"/channels/{_seg(id)}/dtmf", params={"dtmf": dtmf})

    async def start_moh(self, id: str, moh_class: str | None = None) -> None:
        await self._r.request("POST", f"/channels/{_seg(id)}/moh", params={"mohClass": moh_class})

    async def stop_moh(self, id: str) -> None:
        await self._r.request("DELETE", f"/channels/{_seg(id)}/moh")


class Bridges(_Group):
    """``/bridges``."""

    async def create(
        self, *, bridge_type: str = "mixing", bridge_id: str | None = None, name: str | None = None
    ) -> Bridge:
        params = {"type": bridge_type, "bridgeId": bridge_id, "name": name}
        return Bridge.from_json(await self._r.request("POST", "/bridges", params=params))

    async def list(self) -> builtins.list[Bridge]:
        data = await self._r.request("GET", "/bridges")
        return [Bridge.from_json(b) for b in (data if isinstance(data, builtins.list) else [])]

    async def get(self, id: str) -> Bridge:
        return Bridge.from_json(await self._r.request("GET", f"/bridges/{_seg(id)}"))

    async def add_channel(self, id: str, channels: Sequence[str]) -> None:
        params = {"channel": _join(channels, "channel")}
        await self._r.request("POST", f"/bridges/{_seg(id)}/addChannel", params=params)

    async def remove_channel(self, id: str, channels: Sequence[str]) -> None:
        params = {"channel": _join(channels, "channel")}
        await self._r.request("POST", f"/bridges/{_seg(id)}/removeChannel", params=params)

    async def destroy(self, id: str) -> None:
        await self._r.request("DELETE", f"/bridges/{_seg(id)}")

    async def record(
        self, id: str, *, name: str, format: str = "wav", if_exists: str = "fail", beep: bool = False
    ) -> LiveRecording:
        """Record what the bridge mixes (every party) as ``<spool>/<name>.<format>``; a ``/`` in ``name``
        makes Asterisk create that sub-directory of its recording spool."""
        params: Params = {
            "name": name,
            "format": format,
            "maxDurationSeconds": 0,
            "maxSilenceSeconds": 0,
            "beep": beep,
            "terminateOn": "none",
            "ifExists": if_exists,
        }
        data = await self._r.request("POST", f"/bridges/{_seg(id)}/record", params=params)
        return LiveRecording.from_json(data)


class Playbacks(_Group):
    """``/playbacks``."""

    async def stop(self, id: str) -> None:
        await self._r.request("DELETE", f"/playbacks/{_seg(id)}")


class Applications(_Group):
    """``/applications``."""

    async def get(self, name: str) -> Application:
        return Application.from_json(await self._r.request("GET", f"/applications/{_seg(name)}"))

    async def subscribe(self, name: str, event_source: str) -> Application:
        """``POST /applications/{name}/subscription``: also receive events of e.g. ``endpoint:PJSIP``."""
        data = await self._r.request(
            "POST", f"/applications/{_seg(name)}/subscription", params={"eventSource": event_source}
        )
        return Application.from_json(data)

    async def filter_events(
        self, name: str, *, allowed: Sequence[str] = (), disallowed: Sequence[str] = ()
    ) -> Application:
        """``PUT /applications/{name}/eventFilter``: which event types Asterisk sends the app at all."""
        body: dict[str, Any] = {}
        if allowed:
            body["allowed"] = [{"type": t} for t in allowed]
        if disallowed:
            body["disallowed"] = [{"type": t} for t in disallowed]
        data = await self._r.request("PUT", f"/applications/{_seg(name)}/eventFilter", json=body)
        return Application.from_json(data)


class AsteriskResource(_Group):
    """``/asterisk``: system info, module reloads, dynamic (sorcery) configuration."""

    async def info(self) -> dict[str, Any]:
        data = await self._r.request("GET", "/asterisk/info")
        return dict(data) if isinstance(data, Mapping) else {}

    async def reload_module(self, name: str) -> None:
        await self._r.request("PUT", f"/asterisk/modules/{_seg(name)}")

    async def put_dynamic_config(
        self, config_class: str, object_type: str, id: str, fields: Mapping[str, str]
    ) -> builtins.list[dict[str, str]]:
        """Create or update a sorcery object; returns Asterisk's resulting ``[{attribute, value}]``."""
        body = {"fields": [{"attribute": k, "value": v} for k, v in fields.items()]}
        data = await self._r.request("PUT", self._dynamic(config_class, object_type, id), json=body)
        return [dict(t) for t in data] if isinstance(data, list) else []

    async def delete_dynamic_config(self, config_class: str, object_type: str, id: str) -> None:
        await self._r.request("DELETE", self._dynamic(config_class, object_type, id))

    @staticmethod
    def _dynamic(config_class: str, object_type: str, id: str) -> str:
        return f"/asterisk/config/dynamic/{_seg(config_class)}/{_seg(object_type)}/{_seg(id)}"


class Endpoints(_Group):
    """``/endpoints``."""

    async def get(self, tech: str, resource: str) -> Endpoint:
        return Endpoint.from_json(await self._r.request("GET", f"/endpoints/{_seg(tech)}/{_seg(resource)}"))

    async def list(self, tech: str) -> builtins.list[Endpoint]:
        """Every endpoint of one technology (``PJSIP``), in one request."""
        data = await self._r.request("GET", f"/endpoints/{_seg(tech)}")
        return [Endpoint.from_json(e) for e in (data if isinstance(data, builtins.list) else [])]


class Recordings(_Group):
    """``/recordings``."""

    async def stop(self, name: str) -> None:
        await self._r.request("POST", f"/recordings/live/{_seg(name)}/stop")

    async def delete_stored(self, name: str) -> None:
        await self._r.request("DELETE", f"/recordings/stored/{_seg(name)}")

    async def mute(self, name: str) -> None:
        """Silence a live recording: it goes on writing, but silence (the file keeps the call's length)."""
        await self._r.request("POST", f"/recordings/live/{_seg(name)}/mute")

    async def unmute(self, name: str) -> None:
        await self._r.request("DELETE", f"/recordings/live/{_seg(name)}/mute")

    async def pause(self, name: str) -> None:
        """Stop writing a live recording until ``unpause`` (the paused span is cut out of the file)."""
        await self._r.request("POST", f"/recordings/live/{_seg(name)}/pause")

    async def unpause(self, name: str) -> None:
        await self._r.request("DELETE", f"/recordings/live/{_seg(name)}/pause")
