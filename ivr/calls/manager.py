"""Routes ARI events to per-call sessions; adopts calls already in Stasis after a (re)connect."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from ivr.ari.errors import AriError, AriNotFound
from ivr.ari.events import AriEvent, StasisStart, channel_id_of
from ivr.ari.models import Channel
from ivr.calls.session import CallSession, SessionDeps
from ivr.flows.model import Flow
from ivr.flows.registry import FlowRegistry, UnknownFlow
from ivr.store.calls import CallStore

log = logging.getLogger(__name__)

# Channels that enter our Stasis app but are not callers: legs the controller creates itself.
LEG_ARG_PREFIX = "leg:"
UNUSED_EVENTS = ("ChannelVarset", "ChannelDialplan", "ChannelConnectedLine")
HELPER_CHANNEL_PREFIXES = ("Snoop/", "UnicastRTP/", "AudioSocket/", "WebSocket/")


@dataclass
class _Live:
    session: CallSession
    task: asyncio.Task[None]


class CallManager:
    def __init__(self, *, app: str, registry: FlowRegistry, deps: SessionDeps, store: CallStore) -> None:
        self._app = app
        self._registry = registry
        self._deps = deps
        self._store = store
        self._calls: dict[str, _Live] = {}  # caller channel id -> live call

    @property
    def active(self) -> int:
        return len(self._calls)

    def dispatch(self, event: AriEvent) -> None:
        """Called for every ARI event, in arrival order. Never blocks, never raises."""
        try:
            if isinstance(event, StasisStart):
                self._on_stasis_start(event)
                return
            cid = channel_id_of(event)
            live = self._calls.get(cid) if cid else None
            if live is not None:
                live.session.deliver(event)
        except Exception:
            log.exception("event %s could not be dispatched; ignored", getattr(event, "type", event))

    def _on_stasis_start(self, event: StasisStart) -> None:
        channel = event.channel
        if _is_helper_channel(channel, event.args):
            return
        if channel.id in self._calls:
            return
        self._start(channel, self._flow_for(channel), call_id=uuid.uuid4().hex, resume_at=None, adopted=False)

    def _flow_for(self, channel: Channel) -> Flow:
        dialed = channel.dialplan.exten if channel.dialplan else ""
        return self._registry.for_number(dialed)

    def _start(
        self, channel: Channel, flow: Flow, *, call_id: str, resume_at: str | None, adopted: bool
    ) -> None:
        session = CallSession(
            call_id=call_id, channel=channel, flow=flow, deps=self._deps, resume_at=resume_at, adopted=adopted
        )
        task = asyncio.get_running_loop().create_task(session.run(), name=f"call-{call_id}")
        self._calls[channel.id] = _Live(session, task)
        self._deps.stats.calls_started += 1
        self._deps.stats.calls_active = len(self._calls)
        channel_id = channel.id
        task.add_done_callback(lambda _task: self._forget(channel_id))

    def _forget(self, channel_id: str) -> None:
        self._calls.pop(channel_id, None)
        self._deps.stats.calls_active = len(self._calls)

    async def resync(self) -> None:
        """After every (re)connection: adopt calls we do not know, end the ones that are gone."""
        try:
            # Events no verb uses cost Asterisk and us a JSON round each; several per call.
            await self._deps.ari.applications.filter_events(self._app, disallowed=UNUSED_EVENTS)
        except AriError as exc:
            log.info("event filter not applied (%s); unused events are ignored instead", exc)
        try:
            application = await self._deps.ari.applications.get(self._app)
        except AriError as exc:
            log.warning("resync: cannot list channels of app %s: %s", self._app, exc)
            return
        live_ids = set(application.channel_ids)
        for cid, live in list(self._calls.items()):
            if cid not in live_ids:
                live.session.gone()
        for cid in sorted(live_ids - set(self._calls)):
            await self._adopt(cid)

    async def _adopt(self, channel_id: str) -> None:
        try:
            channel = await self._deps.ari.channels.get(channel_id)
        except AriNotFound:
            return
        except AriError as exc:
            log.warning("resync: channel %s unreadable: %s", channel_id, exc)
            return
        if _is_helper_channel(channel, ()):
            return
        open_call = None
        try:
            open_call = await self._store.find_open_call_by_channel(channel_id)
        except Exception as exc:  # a dead database must not stop adoption
            log.warning("resync: store lookup for %s failed: %s", channel_id, exc)
        flow = None
        if open_call is not None and open_call.flow:
            try:
                flow = self._registry.get(open_call.flow)
            except UnknownFlow:
                flow = None
        if flow is None:
            flow = self._flow_for(channel)
        if open_call is None:
            log.info("resync: adopting unknown channel %s as a new call", channel_id)
            self._start(channel, flow, call_id=uuid.uuid4().hex, resume_at=None, adopted=False)
            return
        resume_at = open_call.last_node if open_call.last_node in flow.nodes else None
        log.info("resync: adopted call %s on channel %s at node %s", open_call.id, channel_id, resume_at)
        self._start(channel, flow, call_id=open_call.id, resume_at=resume_at, adopted=True)

    async def shutdown(self) -> None:
        """Stop every call task (not the calls: Asterisk keeps them for the next controller)."""
        tasks = [live.task for live in self._calls.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _is_helper_channel(channel: Channel, args: tuple[str, ...]) -> bool:
    if args and args[0].startswith(LEG_ARG_PREFIX):
        return True
    return channel.name.startswith(HELPER_CHANNEL_PREFIXES)
