"""A recording fake of ``ivr.calls.ports.AriPort``: every operation is logged as ``group.op`` with its
arguments; a failure can be armed per operation (``ari.fail("channels.originate", AriNotFound(...))``).
Unit tests of sessions, executors, managers and the ACD's dispatcher use it; behaviour on Asterisk is
proven by tests/integration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ivr.ari.errors import AriNotFound, AriNotInStasis
from ivr.ari.events import AriEvent, parse_event
from ivr.ari.models import Application, Bridge, Channel, Endpoint, Playback
from tests.ari import samples


def not_found(path: str = "/channels/x") -> AriNotFound:
    return AriNotFound(404, "POST", path, "Channel not found")


def not_in_stasis(path: str = "/channels/x") -> AriNotInStasis:
    return AriNotInStasis(409, "POST", path, "Channel not in Stasis application")


def event(kind: str, **body: Any) -> AriEvent:
    """A parsed ARI event, as Asterisk 22 shapes it."""
    return parse_event(
        {"type": kind, "timestamp": "2026-12-01T01:02:03.500+0000", "application": "ivr", **body}
    )


def chan_json(id: str, **over: Any) -> dict[str, Any]:
    return samples.channel(id=id, **over)


def channel(
    id: str = "caller-1",
    *,
    state: str = "Up",
    exten: str = "0120",
    number: str = "0312345678",
    name: str = "PJSIP/trunk-00000001",
    caller_name: str = "Test Caller",
) -> Channel:
    return Channel.from_json(
        samples.channel(
            id=id,
            state=state,
            name=name,
            caller={"name": caller_name, "number": number},
            dialplan={
                "context": "from-trunk",
                "exten": exten,
                "priority": 1,
                "app_name": "Stasis",
                "app_data": "ivr",
            },
        )
    )


class _Group:
    def __init__(self, ari: FakeAri, group: str) -> None:
        self._ari = ari
        self._group = group

    def __getattr__(self, op: str) -> Callable[..., Any]:
        name = f"{self._group}.{op}"

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._ari.log.append((name, args, kwargs))
            failure = self._ari.failures.get(name)
            if failure is not None:
                if self._ari.fail_once.pop(name, False):
                    del self._ari.failures[name]
                raise failure
            return self._ari.result_for(name, args, kwargs)

        return call


class FakeAri:
    app = "ivr"

    def __init__(self) -> None:
        self.log: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.failures: dict[str, Exception] = {}
        self.fail_once: dict[str, bool] = {}
        self.app_channels: list[str] = []
        self.channels_by_id: dict[str, Channel] = {}
        self.channels = _Group(self, "channels")
        self.bridges = _Group(self, "bridges")
        self.playbacks = _Group(self, "playbacks")
        self.applications = _Group(self, "applications")
        self.asterisk = _Group(self, "asterisk")
        self.endpoints = _Group(self, "endpoints")
        self.bridges_by_id: dict[str, Bridge] = {}
        """What ``bridges.get`` finds (else 404)."""
        self.endpoint_states: dict[str, str] = {}
        """PJSIP resource -> state (``online``/``offline``) for ``endpoints.get`` (else 404) and
        ``endpoints.list``."""

    def fail(self, op: str, exc: Exception, *, once: bool = False) -> None:
        self.failures[op] = exc
        self.fail_once[op] = once

    def ops(self, prefix: str = "") -> list[str]:
        return [name for name, _, _ in self.log if name.startswith(prefix)]

    def calls_to(self, op: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(a, k) for name, a, k in self.log if name == op]

    def result_for(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name == "channels.play":
            return Playback.from_json({**samples.PLAYBACK, "id": kwargs.get("playback_id") or "pb"})
        if name == "channels.originate":
            return channel(kwargs.get("channel_id") or "leg", state="Down", name=f"{args[0]}-0001")
        if name == "channels.get":
            found = self.channels_by_id.get(args[0])
            if found is None:
                raise AriNotFound(404, "GET", f"/channels/{args[0]}", "Channel not found")
            return found
        if name == "channels.list":
            return list(self.channels_by_id.values())
        if name == "bridges.list":
            return list(self.bridges_by_id.values())
        if name == "bridges.get":
            found_bridge = self.bridges_by_id.get(args[0])
            if found_bridge is None:
                raise AriNotFound(404, "GET", f"/bridges/{args[0]}", "Bridge not found")
            return found_bridge
        if name == "endpoints.list":
            return [
                Endpoint(technology=args[0], resource=r, state=st) for r, st in self.endpoint_states.items()
            ]
        if name == "endpoints.get":
            state = self.endpoint_states.get(args[1])
            if state is None:
                raise AriNotFound(404, "GET", f"/endpoints/{args[0]}/{args[1]}", "Endpoint not found")
            return Endpoint(technology=args[0], resource=args[1], state=state)
        if name == "asterisk.put_dynamic_config":
            return []
        if name == "bridges.create":
            return Bridge.from_json({**samples.BRIDGE, "id": kwargs.get("bridge_id") or "b", "channels": []})
        if name in ("applications.get", "applications.filter_events"):
            return Application.from_json(
                {
                    "name": self.app,
                    "channel_ids": list(self.app_channels),
                    "bridge_ids": [],
                    "endpoint_ids": [],
                    "device_names": [],
                    "events_allowed": [],
                    "events_disallowed": [],
                }
            )
        return None
