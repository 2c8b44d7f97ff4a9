"""One call: one asyncio task consuming the call's own ordered event queue.

The session feeds ARI events to the pure flow engine and hands the engine's commands to the executor.
It decides nothing itself: the flow engine decides the flow (and its outcome), ``lifecycle.CallLife``
decides the call's life from the facts the session and executor report, and the executor does the I/O.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from ivr.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    PlaybackFinished,
    PlaybackStarted,
    RecordingFailed,
    RecordingFinished,
    StasisEnd,
    channel_id_of,
)
from ivr.ari.models import Channel
from ivr.calls.call_log import CallLog
from ivr.calls.callerid import caller_name, caller_number
from ivr.calls.executor import PLAYBACK_WATCH_PREFIX, ChannelGone, CommandExecutor
from ivr.calls.legs import LegRegistry
from ivr.calls.lifecycle import CallLife, cause_text
from ivr.calls.ports import AriPort, QueuePort
from ivr.calls.speech import SpeechService
from ivr.calls.stats import LatencyStats
from ivr.calls.translate import to_flow_event
from ivr.calls.voicemail_files import VoicemailFiler
from ivr.flows import commands as c
from ivr.flows.engine import CallContext, CallState, FlowEngine
from ivr.flows.events import Event, PlaybackDone, QueueDone, RecordingDone, TimerFired
from ivr.flows.model import Flow
from ivr.store.write_behind import CallRecorder

log = logging.getLogger(__name__)


FAILED_PLAYBACK_GRACE_S = 0.2
VANISHED_WAIT_S = 30.0
"""How long a call whose channel ARI no longer finds waits for StasisEnd or a resync to say why."""


@dataclass(frozen=True)
class _CallGone:
    """Marker: the channel is gone (left Stasis while we were disconnected), and why if known."""

    cause: str | None = None


_Item = tuple[float, "AriEvent | Event | _CallGone"]


@dataclass(frozen=True)
class SessionDeps:
    ari: AriPort
    recorder: CallRecorder
    renderer: Any  # ivr.tts.renderer.PromptRenderer: ``async uris(prompts) -> list[str]``
    http: aiohttp.ClientSession
    stats: LatencyStats
    site_vars: Mapping[str, str] = field(default_factory=dict)
    speech: SpeechService | None = None
    voicemail: VoicemailFiler | None = None
    legs: LegRegistry = field(default_factory=LegRegistry)
    queue: QueuePort | None = None


class CallSession:
    def __init__(
        self,
        *,
        call_id: str,
        channel: Channel,
        flow: Flow,
        deps: SessionDeps,
        resume_at: str | None = None,
        adopted: bool = False,
        queued: tuple[str, datetime] | None = None,
    ) -> None:
        self.call_id = call_id
        self.channel = channel
        self.flow = flow
        self.resume_at = resume_at
        self.adopted = adopted
        self._deps = deps
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self.log = CallLog(deps.recorder, call_id)
        self.life = CallLife(answered=adopted and channel.state == "Up")
        self.caller_number = caller_number(channel.caller.number)
        self.caller_name = caller_name(channel.caller.name)
        self.exec = CommandExecutor(
            call_id=call_id,
            channel_id=channel.id,
            ari=deps.ari,
            renderer=deps.renderer,
            http=deps.http,
            log_=self.log,
            life=self.life,
            post=self.post,
            spawn=self._spawn,
            legs=deps.legs,
            leg_owner=self.deliver,
            queue=deps.queue,
            speech=deps.speech.listener(call_id, channel.id, self.post, self.deliver)
            if deps.speech
            else None,
            caller_number=self.caller_number,
            caller_name=self.caller_name,
            queued=queued,
        )
        self._engine = FlowEngine(flow)
        self.state: CallState | None = None

    # --- inputs -------------------------------------------------------------------------------

    def deliver(self, event: AriEvent) -> None:
        """Called by the manager for each ARI event about this call or its legs, in arrival order."""
        self._queue.put_nowait((time.perf_counter(), event))

    def post(self, event: Event) -> None:
        """Internal results (timers, lookups, queue, transfer) join the same ordered queue."""
        self._queue.put_nowait((time.perf_counter(), event))

    def gone(self, cause: str | None = None) -> None:
        """The channel left while the controller was disconnected (seen at resync); ``cause`` (e.g.
        ``Asterisk restarted``) is recorded as the call's end cause."""
        self._queue.put_nowait((time.perf_counter(), _CallGone(cause)))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=f"call-{self.call_id}-child")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- the call's task ----------------------------------------------------------------------

    async def run(self) -> None:
        try:
            try:
                await self._begin()
            except ChannelGone:
                self.life.channel_missing()
            while not self.life.should_end():
                try:
                    async with asyncio.timeout(VANISHED_WAIT_S if self.life.vanished else None):
                        received_at, item = await self._queue.get()
                except TimeoutError:
                    # Neither StasisEnd nor a resync came: the channel is gone all the same.
                    self.life.gone_at_resync("channel no longer found by ARI")
                    continue
                try:
                    await self._handle(item, received_at)
                except ChannelGone:
                    self.life.channel_missing()  # ends the call, or waits to learn why it is gone
        except asyncio.CancelledError:
            # The controller is stopping, not the call: Asterisk keeps the channel in Stasis and the
            # next controller adopts it, so the record stays open.
            self.life.detached = True
            raise
        except Exception:
            log.exception("call %s: unexpected failure; ending the call safely", self.call_id)
            self.life.failed = True
            await self._hangup_quietly()
        finally:
            for task in list(self._tasks):
                task.cancel()
            self.exec.shutdown(detaching=self.life.detached)
            self._finish()

    async def _begin(self) -> None:
        now = datetime.now(UTC)
        dialed = self.channel.dialplan.exten if self.channel.dialplan else ""
        if not self.adopted:
            self.log.started(
                channel_id=self.channel.id,
                caller_number=self.caller_number,
                caller_name=self.caller_name,
                dialed=dialed,
                flow=self.flow.name,
                at=self.channel.creationtime or now,
            )
        ctx = CallContext(
            call_id=self.call_id,
            caller_number=self.caller_number,
            caller_name=self.caller_name,
            dialed=dialed,
            now=now,
            vars=self._deps.site_vars,
        )
        step = self._engine.start(ctx, at_node=self.resume_at)
        self.state = step.state
        await self._run_commands(step.commands, time.perf_counter())

    async def _handle(self, item: AriEvent | Event | _CallGone, received_at: float) -> None:
        self._deps.stats.events += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug("call %s: %s", self.call_id, _describe(item))
        if isinstance(item, _CallGone):
            self.life.gone_at_resync(item.cause)
            return
        if isinstance(item, AriEvent):
            if channel_id_of(item) not in (self.channel.id, None):
                await self.exec.on_leg_event(item)
                return
            flow_event = await self._from_ari(item)
        elif isinstance(item, TimerFired) and item.name.startswith(PLAYBACK_WATCH_PREFIX):
            flow_event = await self.exec.playback_overdue(item.name)  # None: the prompt is fine
        else:
            flow_event = item
            if isinstance(item, QueueDone):
                self.exec.queue_finished()
        if flow_event is not None and self.life.accepts_flow_events():
            await self._feed(flow_event, received_at)

    async def _from_ari(self, item: AriEvent) -> Event | None:
        """The caller's own channel: facts for the call's life, or an event for the flow."""
        if isinstance(item, StasisEnd):
            self.life.channel_gone = True
            return None
        if isinstance(item, (ChannelHangupRequest, ChannelDestroyed)):
            cause_txt = item.cause_txt if isinstance(item, ChannelDestroyed) else None
            self.life.hangup_reported(
                cause_text(item.cause, cause_txt), destroyed=isinstance(item, ChannelDestroyed)
            )
            return None
        if isinstance(item, PlaybackStarted):
            self.exec.playback_started(item.playback.id)
            return None
        if not self.life.accepts_flow_events():
            return None
        if isinstance(item, ChannelDtmfReceived):
            return to_flow_event(item, call_id=self.call_id)  # the engine decides barge-in
        if isinstance(item, PlaybackFinished):
            flow_event = to_flow_event(item, call_id=self.call_id, stopped=self.exec.stopped_plays)
            if isinstance(flow_event, PlaybackDone):
                self.exec.playback_finished(flow_event.play_id)
                if item.playback.state == "failed":
                    # A hangup fails the playing prompt, and Asterisk may report that before the hangup
                    # itself; a short grace lets the hangup win so the caller is not moved on a node.
                    asyncio.get_running_loop().call_later(FAILED_PLAYBACK_GRACE_S, self.post, flow_event)
                    return None
            return flow_event
        if isinstance(item, (RecordingFinished, RecordingFailed)):
            return self._recording_event(item)
        return None

    async def _feed(self, flow_event: Event, received_at: float) -> None:
        if self.state is None or self.state.finished:
            return
        step = self._engine.step(self.state, flow_event, datetime.now(UTC))
        self.state = step.state
        await self._run_commands(step.commands, received_at)

    async def _run_commands(self, commands: list[c.Command], received_at: float) -> None:
        if commands:
            self._deps.stats.add(time.perf_counter() - received_at)
        for command in commands:
            await self.exec.execute(command)
        if self.life.must_hang_up(self.state is not None and self.state.finished):
            await self.exec.execute(c.Hangup())

    def _recording_event(self, item: RecordingFinished | RecordingFailed) -> Event | None:
        name = self.exec.recordings.get(item.recording.name)
        if name is None:
            return None
        ok = isinstance(item, RecordingFinished)
        if ok and self._deps.voicemail is not None:
            self._spawn(self._file_recording(item.recording.name))
        return RecordingDone(name=name, duration_s=float(item.recording.duration or 0), ok=ok)

    async def _file_recording(self, name: str) -> None:
        assert self._deps.voicemail is not None
        await asyncio.shield(self._deps.voicemail.file(name))  # survives the call's end

    async def _hangup_quietly(self) -> None:
        try:
            await self._deps.ari.channels.hangup(self.channel.id)
        except Exception as exc:
            log.debug("call %s: hangup after failure: %s", self.call_id, exc)

    def _finish(self) -> None:
        state = self.state
        ending = self.life.ending(
            flow_finished=bool(state is not None and state.finished),
            flow_outcome=state.outcome if state is not None else None,
        )
        if ending is not None:
            self.log.ended(datetime.now(UTC), ending.outcome, ending.cause)


def _describe(item: object) -> str:
    if isinstance(item, AriEvent):
        detail = getattr(getattr(item, "playback", None), "state", None)
        return f"ARI {item.type}" + (f" ({detail})" if detail else "")
    return repr(item)
