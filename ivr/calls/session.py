"""One call: one asyncio task consuming the call's own ordered event queue.

The session feeds ARI events to the pure flow engine and hands the engine's commands to the
executor. It owns nothing else: flow logic lives in ``ivr.flows``, I/O in ``executor``.
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

from ivr.ari.client import AriClient
from ivr.ari.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    PlaybackFinished,
    RecordingFailed,
    RecordingFinished,
    StasisEnd,
)
from ivr.ari.models import Channel
from ivr.calls.callerid import caller_name, caller_number
from ivr.calls.executor import ChannelGone, CommandExecutor
from ivr.calls.outcome import final_outcome
from ivr.calls.record import CallRecord
from ivr.calls.recordings import RecordingFiler
from ivr.calls.speech import SpeechService
from ivr.calls.stats import LatencyStats
from ivr.calls.translate import to_flow_event
from ivr.flows import commands as c
from ivr.flows.engine import CallContext, CallState, FlowEngine
from ivr.flows.events import Event, PlaybackDone, RecordingDone
from ivr.flows.model import Flow
from ivr.store.recorder import CallRecorder
from ivr.tts.renderer import PromptRenderer

log = logging.getLogger(__name__)


FAILED_PLAYBACK_GRACE_S = 0.2


class _CallGone:
    """Marker: the channel is gone (left Stasis while we were disconnected)."""


_CALL_GONE = _CallGone()
_Item = tuple[float, "AriEvent | Event | _CallGone"]


@dataclass(frozen=True)
class SessionDeps:
    ari: AriClient
    recorder: CallRecorder
    renderer: PromptRenderer
    http: aiohttp.ClientSession
    stats: LatencyStats
    site_vars: Mapping[str, str] = field(default_factory=dict)
    speech: SpeechService | None = None
    recordings: RecordingFiler | None = None


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
    ) -> None:
        self.call_id = call_id
        self.channel = channel
        self.flow = flow
        self.resume_at = resume_at
        self.adopted = adopted
        self._deps = deps
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self.record = CallRecord(deps.recorder, call_id)
        self.exec = CommandExecutor(
            call_id=call_id,
            channel_id=channel.id,
            ari=deps.ari,
            renderer=deps.renderer,
            http=deps.http,
            record=self.record,
            post=self.post,
            spawn=self._spawn,
            speech=deps.speech.listener(call_id, channel.id, self.post) if deps.speech else None,
        )
        self._engine = FlowEngine(flow)
        self._state: CallState | None = None
        self._ended = False
        self._failed = False
        self._cause: str | None = None
        self._detached = False
        self._hanging_up = False
        self._finished_once = False

    # --- inputs -------------------------------------------------------------------------------

    def deliver(self, event: AriEvent) -> None:
        """Called by the manager for each ARI event about this call, in arrival order."""
        self._queue.put_nowait((time.perf_counter(), event))

    def post(self, event: Event) -> None:
        """Internal results (timers, lookups, queue) join the same ordered queue."""
        self._queue.put_nowait((time.perf_counter(), event))

    def gone(self) -> None:
        """The channel left while the controller was disconnected (seen at resync)."""
        self._queue.put_nowait((time.perf_counter(), _CALL_GONE))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=f"call-{self.call_id}-child")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- the call's task ----------------------------------------------------------------------

    async def run(self) -> None:
        try:
            await self._begin()
            while not self._ended:
                received_at, item = await self._queue.get()
                await self._handle(item, received_at)
        except ChannelGone:
            self._ended = True
        except asyncio.CancelledError:
            # The controller is stopping, not the call: Asterisk keeps the channel in Stasis and the
            # next controller adopts it, so the record stays open.
            self._detached = True
            raise
        except Exception:
            log.exception("call %s: unexpected failure; ending the call safely", self.call_id)
            self._failed = True
            await self._hangup_quietly()
        finally:
            for task in list(self._tasks):
                task.cancel()
            self.exec.shutdown()
            if not self._detached:
                self._finish(self._cause)

    async def _begin(self) -> None:
        now = datetime.now(UTC)
        number = caller_number(self.channel.caller.number)
        name = caller_name(self.channel.caller.name)
        if not self.adopted:
            self.record.started(
                channel_id=self.channel.id,
                caller_number=number,
                caller_name=name,
                dialed=self.channel.dialplan.exten if self.channel.dialplan else "",
                flow=self.flow.name,
                at=self.channel.creationtime or now,
            )
        else:
            self.exec.answered = self.channel.state == "Up"
        ctx = CallContext(
            call_id=self.call_id,
            caller_number=number,
            caller_name=name,
            dialed=self.channel.dialplan.exten if self.channel.dialplan else "",
            now=now,
            vars=self._deps.site_vars,
        )
        step = self._engine.start(ctx, at_node=self.resume_at)
        self._state = step.state
        await self._run_commands(step.commands, time.perf_counter())

    async def _handle(self, item: AriEvent | Event | _CallGone, received_at: float) -> None:
        self._deps.stats.events += 1
        if log.isEnabledFor(logging.DEBUG):
            log.debug("call %s: %s", self.call_id, _describe(item))
        flow_event: Event | None
        if isinstance(item, (StasisEnd, _CallGone)):
            self._ended = True
            return
        if isinstance(item, (ChannelHangupRequest, ChannelDestroyed)):
            # The call is over for the flow: events that trail a hangup (a playback cut short by it)
            # must not move the caller on to the next node.
            if not self.exec.hung_up:
                self._cause = _cause_text(item) or self._cause
            self._hanging_up = True
            if isinstance(item, ChannelDestroyed):
                self._ended = True
            return
        if self._hanging_up:
            return
        if isinstance(item, ChannelDtmfReceived):
            await self.exec.barge_in()
            flow_event = to_flow_event(item, call_id=self.call_id)
        elif isinstance(item, PlaybackFinished):
            flow_event = to_flow_event(item, call_id=self.call_id, stopped=self.exec.stopped_plays)
            if isinstance(flow_event, PlaybackDone):
                self.exec.playback_finished(flow_event.play_id)
                if item.playback.state == "failed":
                    # A hangup fails the playing prompt, and Asterisk may report that before the hangup
                    # itself; a short grace lets the hangup win so the caller is not moved on a node.
                    asyncio.get_running_loop().call_later(FAILED_PLAYBACK_GRACE_S, self.post, flow_event)
                    return
        elif isinstance(item, (RecordingFinished, RecordingFailed)):
            flow_event = self._recording_event(item)
        elif isinstance(item, AriEvent):
            return
        else:
            flow_event = item
        if flow_event is not None:
            await self._feed(flow_event, received_at)

    async def _feed(self, flow_event: Event, received_at: float) -> None:
        if self._state is None or self._state.finished:
            return
        step = self._engine.step(self._state, flow_event, datetime.now(UTC))
        self._state = step.state
        await self._run_commands(step.commands, received_at)

    async def _run_commands(
        self, commands: list[c.Command] | tuple[c.Command, ...], received_at: float
    ) -> None:
        first = True
        for command in commands:
            if first:
                self._deps.stats.add(time.perf_counter() - received_at)
                first = False
            await self.exec.execute(command)
        if self._state is not None and self._state.finished and not self.exec.hung_up:
            await self.exec.execute(c.Hangup())

    def _recording_event(self, item: RecordingFinished | RecordingFailed) -> Event | None:
        name = self.exec.recordings.get(item.recording.name)
        if name is None:
            return None
        ok = isinstance(item, RecordingFinished)
        if ok and self._deps.recordings is not None:
            self._spawn(self._file_recording(item.recording.name))
        return RecordingDone(name=name, duration_s=float(item.recording.duration or 0), ok=ok)

    async def _file_recording(self, name: str) -> None:
        assert self._deps.recordings is not None
        await asyncio.shield(self._deps.recordings.file(name))  # survives the call's end

    async def _hangup_quietly(self) -> None:
        try:
            await self._deps.ari.channels.hangup(self.channel.id)
        except Exception as exc:
            log.debug("call %s: hangup after failure: %s", self.call_id, exc)

    def _finish(self, cause: str | None) -> None:
        if self._finished_once:
            return
        self._finished_once = True
        if self.exec.hung_up:
            cause = "ivr hung up"
        elif self._failed:
            cause = "controller failure"
        elif cause is None:
            cause = "caller hung up"  # a BYE: Asterisk ends Stasis before it reports a Q.850 cause
        finished = bool(self._state is not None and self._state.finished)
        outcome = final_outcome(
            flow_outcome=self.exec.flow_outcome, flow_finished=finished, failed=self._failed
        )
        self.record.ended(datetime.now(UTC), outcome, cause)


Q850 = {
    16: "normal clearing",
    17: "user busy",
    18: "no user responding",
    19: "no answer",
    21: "call rejected",
    27: "destination out of order",
    31: "normal, unspecified",
    34: "no circuit available",
    38: "network out of order",
    41: "temporary failure",
    127: "interworking",
}


def _cause_text(event: ChannelHangupRequest | ChannelDestroyed) -> str | None:
    """``caller hung up (16 normal clearing)``-style text for the call record."""
    if event.cause is None:
        return None
    text = Q850.get(event.cause) or (event.cause_txt if isinstance(event, ChannelDestroyed) else None)
    return f"caller hung up ({event.cause} {text})" if text else f"caller hung up ({event.cause})"


def _describe(item: object) -> str:
    if isinstance(item, AriEvent):
        detail = getattr(getattr(item, "playback", None), "state", None)
        return f"ARI {item.type}" + (f" ({detail})" if detail else "")
    return repr(item)
