"""Executes flow-engine commands for one call over ARI; what happened comes back as flow events.

The executor decides nothing about the call's life: it performs commands, records facts in the call's
``CallLife`` (answered, we hung up) and posts results (``PlaybackDone``, ``LookupDone``,
``TransferDone``, …) into the call's own ordered queue. Only an ARI 404/409 on the CALLER's channel means
the call is gone (``ChannelGone``); the same error on a leg, a bridge or a playback is that operation's
failure alone. Long-running work (HTTP lookups) runs in the call's child tasks, cancelled with the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp

from ivr.ari.errors import AriError, AriNotFound, AriNotInStasis, AriServerError
from ivr.ari.events import channel_id_of
from ivr.calls.call_log import CallLog
from ivr.calls.legs import LegRegistry
from ivr.calls.lifecycle import CallLife
from ivr.calls.ports import AriPort, NoAgentsQueue, QueuePort, QueueRequest
from ivr.calls.speech import SpeechListener
from ivr.calls.timers import CallTimers
from ivr.calls.transfer_leg import TransferLeg
from ivr.calls.translate import playback_id
from ivr.flows import commands as c
from ivr.flows.events import Event, PlaybackDone, RecordingDone, TimerFired
from ivr.flows.lookups import BODY_LIMIT, lookup_result

log = logging.getLogger(__name__)

T = TypeVar("T")

CALLBACK_QUEUE = "operator"
"""Where a callback promised outside any queue (after hours) waits for an agent."""

PLAYBACK_START_TIMEOUT_S = 5.0
"""How long a prompt Asterisk accepted may take to start (``PlaybackStarted``) while no other prompt of the
call plays. Asterisk can drop an accepted playback without any event (e.g. one played just as the caller
leaves a bridge); past this the prompt counts as stopped, so a node waiting for its end moves on."""

PLAYBACK_WATCH_PREFIX = "~playback-start:"
"""Timer names of the playback watchdog (a flow's own timer names always contain ``#``)."""


class ChannelGone(Exception):
    """The caller's channel no longer exists or left Stasis; the session ends."""


class CommandExecutor:
    def __init__(
        self,
        *,
        call_id: str,
        channel_id: str,
        ari: AriPort,
        renderer: Any,
        http: aiohttp.ClientSession,
        log_: CallLog,
        life: CallLife,
        post: Callable[[Event], None],
        spawn: Callable[[Any], None],
        legs: LegRegistry,
        leg_owner: Callable[[Any], None],
        queue: QueuePort | None = None,
        speech: SpeechListener | None = None,
        caller_number: str = "",
        caller_name: str = "",
        queued: tuple[str, datetime] | None = None,
    ) -> None:
        self.call_id = call_id
        self.channel_id = channel_id
        self._ari = ari
        self._renderer = renderer
        self._http = http
        self._log = log_
        self._life = life
        self._post = post
        self._spawn = spawn
        self._legs = legs
        self._leg_owner = leg_owner
        self._queue = queue or NoAgentsQueue()
        self._speech = speech
        self._caller = (caller_number, caller_name)
        self.timers = CallTimers(lambda name: post(TimerFired(name)))
        self.recordings: dict[str, str] = {}  # ARI recording name -> flow name
        self.active_plays: set[str] = set()  # play ids playing now (barge-in is the engine's decision)
        self.stopped_plays: set[str] = set()
        self.unstarted_plays: set[str] = set()  # accepted by ARI, no PlaybackStarted yet (watched)
        self.lang = ""
        self.queued: str | None = None  # the queue the caller waits in, if any
        self.last_queue: str | None = None
        self.callback_placed = False  # the ACD already holds a callback for this call
        self.transfer: TransferLeg | None = None
        self._resumed_queue = queued  # a caller adopted while waiting keeps its arrival time once
        self._legs_made = 0

    async def _on_caller(self, op: Awaitable[T]) -> T:
        """An operation on the caller's own channel: 404/409 there means the call is gone."""
        try:
            return await op
        except (AriNotFound, AriNotInStasis) as exc:
            raise ChannelGone(str(exc)) from exc

    async def execute(self, command: c.Command) -> None:
        now = datetime.now(UTC)
        match command:
            case c.Answer():
                if not self._life.answered:
                    await self._on_caller(self._ari.channels.answer(self.channel_id))
                    self._life.answered = True
                    self._log.answered(now)
            case c.Play():
                await self._play(command)
            case c.StopPlayback(play_id=play_id):
                await self._stop_play(play_id)
            case c.StartTimer(name=name, seconds=seconds):
                self.timers.start(name, seconds)
            case c.CancelTimer(name=name):
                self.timers.cancel(name)
            case c.ListenSpeech(lang=lang, words=words):
                if self._speech is not None:  # a language without a model is a no-op: DTMF only
                    await self._speech.listen(lang, words)
            case c.HttpLookup():
                self._spawn(self._lookup(command))
            case c.EnterQueue():
                self._enter_queue(command, now)
            case c.LeaveQueue(callback_number=number):
                self._leave_queue(number)
            case c.Moh(on=on):
                await self._moh(on)
            case c.Transfer(target=target, timeout_s=timeout_s):
                await self._transfer(target, timeout_s)
            case c.RecordMessage(name=name, max_s=max_s, beep=beep):
                await self._record_message(name, max_s, beep)
            case c.Hangup():
                if not self._life.we_hung_up:
                    self._life.we_hung_up = True
                    await self._on_caller(self._ari.channels.hangup(self.channel_id))
            case c.SetLanguage(lang=lang):
                self.lang = lang
            case c.NodeEntered(node_id=node_id):
                self._log.node_entered(node_id, now)
            case c.InputTaken():
                self._log.input_taken(command, now)
            case c.CallbackRequested():
                self._log.callback_requested(command, now)
                if not self.callback_placed:
                    self.callback_placed = True
                    self._queue.request_callback(
                        self.call_id, command.number, self.last_queue or CALLBACK_QUEUE, command.note
                    )
            case c.SurveyAnswered(score=score):
                self._log.survey_answered(score, now)
            case c.OutcomeSet():
                pass  # the engine keeps the outcome in the call state; the record takes it at the end
            case _:
                log.warning("call %s: command %r has no executor; ignored", self.call_id, command)

    # --- prompts ---------------------------------------------------------------------------------

    async def _play(self, command: c.Play) -> None:
        uris = await self._renderer.uris(command.prompts)
        if not uris:
            self._post(PlaybackDone(play_id=command.play_id))
            return
        self.active_plays.add(command.play_id)
        self.unstarted_plays.add(command.play_id)
        try:
            await self._on_caller(
                self._ari.channels.play(
                    self.channel_id, uris, playback_id=playback_id(self.call_id, command.play_id)
                )
            )
        except AriError as exc:
            log.error("call %s: playback failed (%s); continuing without it", self.call_id, exc)
            self.active_plays.discard(command.play_id)
            self.unstarted_plays.discard(command.play_id)
            self._post(PlaybackDone(play_id=command.play_id, stopped=True))
            return
        self.timers.start(PLAYBACK_WATCH_PREFIX + command.play_id, PLAYBACK_START_TIMEOUT_S)

    async def _stop_play(self, play_id: str) -> None:
        if play_id not in self.active_plays or play_id in self.stopped_plays:
            return  # finished already, or being stopped
        self.stopped_plays.add(play_id)
        try:
            await self._ari.playbacks.stop(playback_id(self.call_id, play_id))
        except AriNotFound:
            pass  # it finished on its own meanwhile
        except AriServerError as exc:
            # "Could not stop playback": a prompt that has only just started (a typed-ahead key); it
            # plays on and its PlaybackFinished comes as usual — not a reason to end the call
            log.info("call %s: playback %s not stopped: %s", self.call_id, play_id, exc)

    def playback_started(self, ari_playback_id: str) -> None:
        """``PlaybackStarted`` of one of this call's prompts: the watchdog stands down."""
        play_id = ari_playback_id.removeprefix(playback_id(self.call_id, ""))
        if play_id in self.unstarted_plays:
            self.unstarted_plays.discard(play_id)
            self.timers.cancel(PLAYBACK_WATCH_PREFIX + play_id)

    def playback_finished(self, play_id: str) -> None:
        self.active_plays.discard(play_id)
        if play_id in self.unstarted_plays:
            self.unstarted_plays.discard(play_id)
            self.timers.cancel(PLAYBACK_WATCH_PREFIX + play_id)

    async def playback_overdue(self, timer_name: str) -> PlaybackDone | None:
        """The watchdog of a prompt fired (in the call's own event order). A prompt that has not started
        while no other prompt of the call plays is lost: it is stopped in case it starts late, and counts
        as stopped, so the node waiting for its end goes on (a no-input timer, a retry, its fallback)."""
        play_id = timer_name.removeprefix(PLAYBACK_WATCH_PREFIX)
        if play_id not in self.unstarted_plays:
            return None  # started or finished meanwhile
        if self.active_plays - self.unstarted_plays:
            # Asterisk plays a channel's prompts one after another: wait while another one plays.
            self.timers.start(timer_name, PLAYBACK_START_TIMEOUT_S)
            return None
        log.warning(
            "call %s: prompt %s accepted by Asterisk but not started within %.0f s; going on without it",
            self.call_id,
            play_id,
            PLAYBACK_START_TIMEOUT_S,
        )
        self.unstarted_plays.discard(play_id)
        self.active_plays.discard(play_id)
        self.stopped_plays.add(play_id)
        with contextlib.suppress(AriError):
            await self._ari.playbacks.stop(playback_id(self.call_id, play_id))
        return PlaybackDone(play_id=play_id, stopped=True)

    # --- lookups ---------------------------------------------------------------------------------

    async def _lookup(self, command: c.HttpLookup) -> None:
        try:
            timeout = aiohttp.ClientTimeout(total=command.timeout_s)
            async with self._http.request(
                command.method, command.url, json=command.body, timeout=timeout
            ) as resp:
                raw = await resp.content.read(BODY_LIMIT + 1)
                self._post(lookup_result(command.request_id, resp.status, raw))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure is the lookup's failure branch, never the call's end
            log.warning("call %s: lookup %s failed: %s", self.call_id, command.url, exc)
            self._post(lookup_result(command.request_id, None, None, str(exc) or type(exc).__name__))

    # --- queue and transfer ----------------------------------------------------------------------

    def _enter_queue(self, command: c.EnterQueue, now: datetime) -> None:
        resumed, self._resumed_queue = self._resumed_queue, None
        if resumed is not None and resumed[0] == command.queue:
            now = resumed[1]  # the same wait, resumed after a controller restart: same place in line
        else:
            self._log.queue_entered(command.queue, now)
        self.queued = self.last_queue = command.queue
        request = QueueRequest(
            call_id=self.call_id,
            channel_id=self.channel_id,
            queue=command.queue,
            priority=command.priority,
            lang=self.lang,
            entered_at=now,
            timeout_s=command.timeout_s,
            caller_number=self._caller[0],
            caller_name=self._caller[1],
            attributes=dict(command.attributes),
        )
        self._queue.enter(request, self._post)

    def _leave_queue(self, callback_number: str | None) -> None:
        if self.queued is None:
            return
        self.queued = None
        if callback_number:
            self.callback_placed = True
        self._queue.leave(
            self.call_id, "callback" if callback_number else "flow moved on", callback_number=callback_number
        )

    async def _moh(self, on: bool) -> None:
        try:
            if on:
                await self._ari.channels.start_moh(self.channel_id)
            else:
                await self._ari.channels.stop_moh(self.channel_id)
        except AriError as exc:  # hold music is a nicety; a gone channel shows up as StasisEnd
            log.debug("call %s: music on hold %s failed: %s", self.call_id, "on" if on else "off", exc)

    def queue_finished(self) -> None:
        """The ACD said the call left its queue (QueueDone): nothing to tell it at the end."""
        self.queued = None

    async def _transfer(self, target: str, timeout_s: float) -> None:
        self._legs_made += 1
        leg = TransferLeg(
            ari=self._ari,
            call_id=self.call_id,
            caller_channel=self.channel_id,
            target=target,
            n=self._legs_made,
            post=self._post,
        )
        self.transfer = leg
        self._legs.claim(leg.leg_id, self._leg_owner)
        await leg.start(timeout_s, caller_id=self._caller[0])

    async def on_leg_event(self, event: Any) -> None:
        """An ARI event about one of this call's legs (the manager routed it here)."""
        if self._speech is not None and self._speech.owns(channel_id_of(event)):
            self._speech.on_leg_event(event)
            return
        if self.transfer is not None and self.transfer.owns(event):
            await self.transfer.on_event(event)
            if self.transfer.done:
                self._legs.release(self.transfer.leg_id)
                self.transfer = None

    # --- voicemail -------------------------------------------------------------------------------

    async def _record_message(self, name: str, max_s: float, beep: bool) -> None:
        safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_") or "message"
        recording = f"{self.call_id}-{safe}"
        self.recordings[recording] = name
        try:
            await self._on_caller(
                self._ari.channels.record(
                    self.channel_id,
                    name=recording,
                    format="wav",
                    max_duration=int(max_s),
                    max_silence=5,
                    beep=beep,
                    terminate_on="#",
                    if_exists="overwrite",
                )
            )
        except AriError as exc:
            log.error("call %s: recording could not start: %s", self.call_id, exc)
            self._post(RecordingDone(name=name, duration_s=0.0, ok=False))

    # --- the end ---------------------------------------------------------------------------------

    def shutdown(self, *, detaching: bool) -> None:
        """The call's task ends. Leaving (not detaching) also gives up the queue place and the legs."""
        self.timers.cancel_all()
        if self._speech is not None:
            self._speech.close()  # tears the call's snoop/externalMedia legs down in the background
        if detaching:
            return
        if self.queued is not None:
            self._queue.leave(self.call_id, "caller hung up")
            self.queued = None
        if self.transfer is not None:
            self._legs.release(self.transfer.leg_id)
            self._spawn_detached(self.transfer.abandon())
            self.transfer = None

    def _spawn_detached(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro, name=f"call-{self.call_id}-cleanup")
        _CLEANUPS.add(task)
        task.add_done_callback(_CLEANUPS.discard)


_CLEANUPS: set[asyncio.Task[None]] = set()
