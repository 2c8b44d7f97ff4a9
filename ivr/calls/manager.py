"""Routes ARI events to per-call sessions and to the owners of legs; adopts calls after a (re)connect.

Which flow a call runs and where an adopted call resumes is decided in ``lifecycle``; this module only
keeps the map from channels to their owners and starts one task per call.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ivr.ari.errors import AriError, AriNotFound
from ivr.ari.events import AriEvent, StasisStart, channel_id_of
from ivr.ari.models import Channel
from ivr.calls.callerid import caller_name, caller_number
from ivr.calls.legs import is_leg
from ivr.calls.lifecycle import FlowSource, OpenCallFacts, Start, start_adopted, start_new
from ivr.calls.session import CallSession, SessionDeps

log = logging.getLogger(__name__)

UNUSED_EVENTS = ("ChannelVarset", "ChannelDialplan", "ChannelConnectedLine")

DRAINING_CAUSE = "controller draining: dialplan fallback"
"""The cause recorded for a caller who arrived while the controller drained (SIGTERM)."""
FALLBACK_CONTEXT = "controller-away"
"""The dialplan context a caller goes to when the controller takes no new calls (apology, hang up)."""

FindOpenCall = Callable[[str], Awaitable[OpenCallFacts | None]]
"""channel id → the store's open call on it (``CallStore.find_open_call_by_channel``)."""


@dataclass
class _Live:
    session: CallSession
    task: asyncio.Task[None]
    started_at: datetime


class CallManager:
    def __init__(
        self, *, app: str, flows: FlowSource, deps: SessionDeps, find_open_call: FindOpenCall
    ) -> None:
        self._app = app
        self._flows = flows
        self._deps = deps
        self._find_open_call = find_open_call
        self._calls: dict[str, _Live] = {}  # caller channel id -> live call
        self.on_resync: list[Callable[[set[str]], Awaitable[None]]] = []
        """Awaited after each resync with the app's channel ids (the ACD reconciles its legs)."""
        self.stasis_handlers: dict[str, Callable[[StasisStart], None]] = {}
        """First Stasis argument → handler for channels that are not callers (``feature``: an operator
        dialled a feature code)."""
        self.before_adopt: list[Callable[[set[str]], Awaitable[None]]] = []
        """Awaited at each resync with the app's channel ids BEFORE callers are adopted (the ACD takes
        back the conversations in progress, so a resumed caller finds its operator)."""
        self.orphan_leg_handlers: list[Callable[[StasisStart], None]] = []
        """Told of a leg entering the app that nobody owns (answered after a controller restart)."""
        self.channelless_handlers: list[Callable[[AriEvent], None]] = []
        """Told of events about no channel (e.g. ``EndpointStateChange``: a phone registered)."""
        self.on_calls_changed: list[Callable[[], None]] = []
        """Told when a call starts or ends (the wallboard). Node changes are not announced."""
        self.gone_cause: Callable[[], str | None] = lambda: None
        """The cause recorded for a call whose channel vanished at a resync (``Asterisk restarted`` when
        the recovery's ``before_adopt`` hook saw Asterisk's start time change); None: the session's own."""
        self.draining = False
        """Set on SIGTERM: new callers go to the dialplan fallback; calls in progress go on."""
        self._fallbacks: set[asyncio.Task[None]] = set()

    @property
    def active(self) -> int:
        return len(self._calls)

    def call_ids(self) -> set[str]:
        """The ids of the calls this controller holds in memory (their records are its own to close)."""
        return {live.session.call_id for live in self._calls.values()}

    def session_for(self, call_id: str) -> CallSession | None:
        for live in self._calls.values():
            if live.session.call_id == call_id:
                return live.session
        return None

    def live_calls(self) -> list[dict[str, Any]]:
        """The calls in progress, oldest first, JSON-able (read-only; the wallboard): id, caller, flow,
        current node (``None`` before the flow starts or once it finished), started_at, and the queue
        the caller waits in or talks from (``None`` when not queued)."""
        rows = []
        for live in sorted(self._calls.values(), key=lambda live: live.started_at):
            session, state = live.session, live.session.state
            rows.append(
                {
                    "id": session.call_id,
                    "caller": {"number": session.caller_number, "name": session.caller_name},
                    "flow": state.flow if state is not None else session.flow.name,
                    "node": state.node if state is not None and not state.finished else None,
                    "started_at": live.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                    "queue": session.exec.queued,
                }
            )
        return rows

    def dispatch(self, event: AriEvent) -> None:
        """Called for every ARI event, in arrival order. Never blocks, never raises."""
        try:
            cid = channel_id_of(event)
            if cid is None:
                for channelless_handler in self.channelless_handlers:
                    channelless_handler(event)
                return
            owner = self._deps.legs.owner(cid)
            if owner is not None:
                owner(event)
                return
            live = self._calls.get(cid)
            if live is not None:
                live.session.deliver(event)
            elif isinstance(event, StasisStart) and event.args and event.args[0] in self.stasis_handlers:
                self.stasis_handlers[event.args[0]](event)
            elif isinstance(event, StasisStart) and is_leg(event.channel, event.args):
                for orphan_handler in self.orphan_leg_handlers:
                    orphan_handler(event)
            elif isinstance(event, StasisStart) and self.draining:
                self._send_to_fallback(event.channel)
            elif isinstance(event, StasisStart):
                dialed = event.channel.dialplan.exten if event.channel.dialplan else ""
                self._start(event.channel, start_new(self._flows, dialed, uuid.uuid4().hex))
        except Exception:
            log.exception("event %s could not be dispatched; ignored", getattr(event, "type", event))

    def _start(self, channel: Channel, start: Start) -> None:
        session = CallSession(
            call_id=start.call_id,
            channel=channel,
            flow=start.flow,
            deps=self._deps,
            resume_at=start.resume_at,
            adopted=start.adopted,
            queued=start.queued,
        )
        task = asyncio.get_running_loop().create_task(session.run(), name=f"call-{start.call_id}")
        self._calls[channel.id] = _Live(session, task, channel.creationtime or datetime.now(UTC))
        self._deps.stats.calls_started += 1
        self._deps.stats.calls_active = len(self._calls)
        channel_id = channel.id
        task.add_done_callback(lambda _task: self._forget(channel_id))
        self._calls_changed()

    def _forget(self, channel_id: str) -> None:
        self._calls.pop(channel_id, None)
        self._deps.stats.calls_active = len(self._calls)
        self._calls_changed()

    def _calls_changed(self) -> None:
        for listener in self.on_calls_changed:
            try:
                listener()
            except Exception:
                log.exception("calls-changed listener failed; ignored")

    def _send_to_fallback(self, channel: Channel) -> None:
        task = asyncio.get_running_loop().create_task(self._fallback(channel), name=f"fallback-{channel.id}")
        self._fallbacks.add(task)
        task.add_done_callback(self._fallbacks.discard)

    async def _fallback(self, channel: Channel) -> None:
        """A caller arriving while draining: back to the dialplan's apology, recorded as failed."""
        call_id = uuid.uuid4().hex
        number, name = caller_number(channel.caller.number), caller_name(channel.caller.name)
        dialed = channel.dialplan.exten if channel.dialplan else ""
        started_at = channel.creationtime or datetime.now(UTC)
        self._deps.recorder.submit(
            lambda store: store.call_started(call_id, channel.id, number, name, dialed, None, started_at)
        )
        try:
            await self._deps.ari.channels.continue_in_dialplan(
                channel.id, context=FALLBACK_CONTEXT, extension="s", priority=1
            )
            log.info("draining: caller on channel %s sent to the dialplan fallback", channel.id)
        except AriError as exc:
            log.warning("draining: channel %s could not be sent to the fallback: %s", channel.id, exc)
        ended_at = datetime.now(UTC)
        self._deps.recorder.submit(
            lambda store: store.call_ended(call_id, ended_at, "failed", DRAINING_CAUSE)
        )

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no call is in progress (fallback hand-offs included); False at the time limit."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self._calls or self._fallbacks:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    async def resync(self) -> None:
        """After every (re)connection: adopt calls we do not know, end the ones that are gone."""
        began = time.monotonic()
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
        await _run_hooks(self.before_adopt, live_ids)
        gone_cause = self.gone_cause()
        for cid, live in list(self._calls.items()):
            if cid not in live_ids:
                live.session.gone(gone_cause)
        adopted = 0
        for cid in sorted(live_ids - set(self._calls)):
            adopted += await self._adopt(cid)
        await _run_hooks(self.on_resync, live_ids)
        log.info("resync: %d calls adopted in %.3f s", adopted, time.monotonic() - began)

    async def _adopt(self, channel_id: str) -> bool:
        """Take over one caller's channel found in the app; False for a leg or a channel gone meanwhile."""
        try:
            channel = await self._deps.ari.channels.get(channel_id)
        except AriNotFound:
            return False
        except AriError as exc:
            log.warning("resync: channel %s unreadable: %s", channel_id, exc)
            return False
        if is_leg(channel):
            return False
        open_call = None
        try:
            open_call = await self._find_open_call(channel_id)
        except Exception as exc:  # a dead database must not stop adoption
            log.warning("resync: store lookup for %s failed: %s", channel_id, exc)
        dialed = channel.dialplan.exten if channel.dialplan else ""
        start = start_adopted(self._flows, dialed, open_call, uuid.uuid4().hex)
        if start.adopted:
            log.info(
                "resync: adopted call %s on channel %s at node %s", start.call_id, channel_id, start.resume_at
            )
        else:
            log.info("resync: adopting unknown channel %s as a new call", channel_id)
        self._start(channel, start)
        return True

    async def shutdown(self) -> None:
        """Stop every call task (not the calls: Asterisk keeps them for the next controller)."""
        tasks = [live.task for live in self._calls.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _run_hooks(hooks: list[Callable[[set[str]], Awaitable[None]]], live_ids: set[str]) -> None:
    """Each hook in turn; one that fails is logged and does not stop the resync."""
    for hook in hooks:
        try:
            await hook(live_ids)
        except Exception:
            log.exception("resync hook failed; continuing")
