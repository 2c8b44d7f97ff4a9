"""A supervisor listens to, whispers to or barges into an operator's conversation from their own phone.

``start(call_id, mode, endpoint)`` rings the supervisor's registered PJSIP endpoint as a leg
(``leg-<call id>-listen<n>``, first Stasis argument ``leg:listen:<call id>``). When it answers:

- ``listen``: a snoop on the operator's channel (spy both: caller and operator), bridged with the
  supervisor in a bridge of its own (``leg-<call id>-listen<n>-mix``);
- ``whisper``: the same snoop with whisper ``out``: what the supervisor says is written towards the
  operator's phone only; the caller hears the bridge, which the snoop does not feed;
- ``barge``: the supervisor joins the conversation's bridge (three-way).

Either side hanging up ends it all: the supervisor's leg gone → the snoop is hung up and the mix
bridge destroyed; the snoop gone (the operator hung up) or the supervisor dropped out of the
conversation's bridge (it was destroyed) → the supervisor is hung up, then the same clean-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from acd.dispatcher import Dispatcher
from ivr.ari.errors import AriError, AriNotFound
from ivr.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelLeftBridge,
    StasisEnd,
    StasisStart,
    channel_id_of,
)
from ivr.calls.legs import LEG_ARG_PREFIX, LegRegistry, leg_id

log = logging.getLogger(__name__)

MODES = ("listen", "whisper", "barge")
_ENDPOINT = re.compile(r"^PJSIP/([A-Za-z0-9_.-]{1,64})$")


class ListenError(Exception):
    status = 409


class NoOperator(ListenError):
    """The call is not talking with an operator now."""


class BadEndpoint(ListenError):
    status = 422


class EndpointOffline(ListenError):
    """The supervisor's endpoint is unknown or not registered."""


@dataclass(frozen=True)
class Conversation:
    """What the ACD knows of a call's conversation: the operator's leg and the bridge."""

    operator_channel: str
    bridge_id: str


def snoop_directions(mode: str) -> tuple[str, str]:
    """(spy, whisper) of the snoop on the operator's channel; barge needs none."""
    if mode == "listen":
        return ("both", "none")
    if mode == "whisper":
        return ("both", "out")
    raise ValueError(f"mode {mode!r} uses no snoop")


def endpoint_resource(endpoint: str) -> str:
    """``PJSIP/<id>`` → ``<id>``; ``BadEndpoint`` for anything else."""
    m = _ENDPOINT.match(endpoint)
    if m is None:
        raise BadEndpoint("endpoint must be PJSIP/<id> (the supervisor's registered phone)")
    return m.group(1)


@dataclass
class _Session:
    id: str
    call_id: str
    mode: str
    endpoint: str
    supervisor: str
    snoop: str | None = None
    mix_bridge: str | None = None
    answered: bool = False
    ended: bool = False


class ListenIn:
    def __init__(
        self,
        *,
        ari: Any,
        legs: LegRegistry,
        conversation_of: Callable[[str], Conversation | None],
    ) -> None:
        self._ari = ari
        self._legs = legs
        self._conversation_of = conversation_of
        self._seq = itertools.count(1)
        self.sessions: dict[str, _Session] = {}  # supervisor leg id -> session
        self._by_channel: dict[str, _Session] = {}  # supervisor and snoop channel ids -> session
        self._events: asyncio.Queue[AriEvent] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def start(self, call_id: str, mode: str, endpoint: str) -> dict[str, str]:
        """Ring the supervisor's phone for ``call_id``. Raises a ``ListenError`` (status 409/422)."""
        if mode not in MODES:
            raise BadEndpoint(f"mode must be one of {', '.join(MODES)}")
        resource = endpoint_resource(endpoint)
        if self._conversation_of(call_id) is None:
            raise NoOperator(f"call {call_id} has no operator now")
        try:
            state = (await self._ari.endpoints.get("PJSIP", resource)).state
        except AriNotFound as exc:
            raise EndpointOffline(f"endpoint {endpoint} is not known") from exc
        if state != "online":
            raise EndpointOffline(f"endpoint {endpoint} is not registered ({state or 'unknown'})")
        n = next(self._seq)
        supervisor = leg_id(call_id, "listen", n)
        session = _Session(supervisor, call_id, mode, endpoint, supervisor)
        self.sessions[supervisor] = session
        self._by_channel[supervisor] = session
        self._legs.claim(supervisor, self.on_leg_event)
        try:
            await self._ari.channels.originate(
                endpoint,
                app=self._ari.app,
                app_args=f"{LEG_ARG_PREFIX}listen:{call_id}",
                channel_id=supervisor,
                caller_id=f'"{mode.capitalize()} {call_id[:8]}" <{mode}>',
                timeout=30,
            )
        except AriError:
            self._forget(session)
            raise
        log.info("call %s: %s by %s (leg %s)", call_id, mode, endpoint, supervisor)
        return {"id": supervisor, "call_id": call_id, "mode": mode, "endpoint": endpoint}

    def on_leg_event(self, event: AriEvent) -> None:
        """Owner of the supervisor and snoop legs (the call manager hands their events here); taken in
        arrival order, one at a time."""
        self._events.put_nowait(event)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._drain(), name="listen-in")

    async def _drain(self) -> None:
        while not self._events.empty():
            event = self._events.get_nowait()
            try:
                await self.handle(event)
            except Exception:
                log.exception("listen-in: %s not handled", event.type)

    async def handle(self, event: AriEvent) -> None:
        cid = channel_id_of(event)
        session = self._by_channel.get(cid) if cid else None
        if session is None or session.ended:
            return
        if isinstance(event, StasisStart) and cid == session.supervisor and not session.answered:
            session.answered = True
            await self._join(session)
        elif isinstance(event, StasisStart) and cid == session.snoop:
            await self._mix(session)  # a channel joins a bridge only once it is in the app
        elif isinstance(event, ChannelDestroyed | StasisEnd):
            await self.end(session, f"{'supervisor' if cid == session.supervisor else 'snoop'} gone")
        elif (
            isinstance(event, ChannelLeftBridge)
            and session.mode == "barge"
            and cid == session.supervisor
            and event.bridge.id != session.mix_bridge
        ):
            await self.end(session, "conversation ended")

    async def _join(self, s: _Session) -> None:
        conversation = self._conversation_of(s.call_id)
        if conversation is None:
            await self.end(s, "conversation already over")
            return
        try:
            if s.mode == "barge":
                await self._ari.bridges.add_channel(conversation.bridge_id, [s.supervisor])
                return
            spy, whisper = snoop_directions(s.mode)
            s.snoop = f"{s.supervisor}-snoop"
            self._by_channel[s.snoop] = s
            self._legs.claim(s.snoop, self.on_leg_event)
            await self._ari.channels.snoop(
                conversation.operator_channel,
                app=self._ari.app,
                spy=spy,
                whisper=whisper,
                snoop_id=s.snoop,
                app_args=f"{LEG_ARG_PREFIX}snoop:{s.call_id}",
            )
            s.mix_bridge = f"{s.supervisor}-mix"
            await self._ari.bridges.create(bridge_type="mixing", bridge_id=s.mix_bridge)
            await self._ari.bridges.add_channel(s.mix_bridge, [s.supervisor])
        except AriError as exc:
            log.warning("call %s: %s could not join: %s", s.call_id, s.mode, exc)
            await self.end(s, "join failed")

    async def _mix(self, s: _Session) -> None:
        """The snoop entered the app: it joins the supervisor in the mix bridge. Added before its
        StasisStart, Asterisk refuses it (422 "Channel not in Stasis application"), as a loaded box showed."""
        if s.mix_bridge is None or s.snoop is None:
            return
        try:
            await self._ari.bridges.add_channel(s.mix_bridge, [s.snoop])
        except AriError as exc:
            log.warning("call %s: %s could not join: %s", s.call_id, s.mode, exc)
            await self.end(s, "join failed")

    async def end(self, s: _Session, why: str) -> None:
        """Hang up what is left of the session (supervisor, snoop) and destroy its bridge."""
        if s.ended:
            return
        s.ended = True
        log.info("call %s: %s by %s ended (%s)", s.call_id, s.mode, s.endpoint, why)
        for channel in (s.snoop, s.supervisor):
            if channel is not None:
                with contextlib.suppress(AriError):
                    await self._ari.channels.hangup(channel)
        if s.mix_bridge is not None:
            with contextlib.suppress(AriError):
                await self._ari.bridges.destroy(s.mix_bridge)
        self._forget(s)

    def _forget(self, s: _Session) -> None:
        self.sessions.pop(s.id, None)
        for channel in (s.supervisor, s.snoop):
            if channel is not None:
                self._by_channel.pop(channel, None)
                self._legs.release(channel)

    async def close(self) -> None:
        for s in list(self.sessions.values()):
            await self.end(s, "controller stopping")


def conversation_in(dispatcher: Dispatcher) -> Callable[[str], Conversation | None]:
    """The dispatcher's conversations as ``ListenIn`` reads them: the operator's leg and the bridge."""

    def conversation_of(call_id: str) -> Conversation | None:
        conversation = dispatcher.conversations.get(call_id)
        if conversation is None:
            return None
        for channel_id in conversation.legs:
            leg = dispatcher.by_channel.get(channel_id)
            if leg is not None and leg.kind == "agent" and leg.connected:
                return Conversation(channel_id, conversation.bridge_id)
        return None

    return conversation_of
