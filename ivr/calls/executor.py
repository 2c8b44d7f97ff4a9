"""Executes flow-engine commands for one call over ARI; outcomes come back as flow events.

Long-running work (HTTP lookups) runs in the call's own child tasks, which the session cancels when
the call ends. Everything else is one awaited REST request in the call's task, in command order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from ivr.ari.client import AriClient
from ivr.ari.errors import AriError, AriNotFound, AriNotInStasis
from ivr.calls.record import CallRecord
from ivr.calls.speech import SpeechListener
from ivr.calls.timers import CallTimers
from ivr.calls.translate import playback_id
from ivr.flows import commands as c
from ivr.flows.events import Event, LookupDone, PlaybackDone, QueueDone, RecordingDone, TimerFired
from ivr.tts.renderer import PromptRenderer

log = logging.getLogger(__name__)

LOOKUP_BODY_LIMIT = 256 * 1024


class ChannelGone(Exception):
    """The caller's channel no longer exists or left Stasis; the session ends."""


class CommandExecutor:
    def __init__(
        self,
        *,
        call_id: str,
        channel_id: str,
        ari: AriClient,
        renderer: PromptRenderer,
        http: aiohttp.ClientSession,
        record: CallRecord,
        post: Callable[[Event], None],
        spawn: Callable[[Any], None],
        speech: SpeechListener | None = None,
    ) -> None:
        self.call_id = call_id
        self.channel_id = channel_id
        self._ari = ari
        self._renderer = renderer
        self._http = http
        self._record = record
        self._post = post
        self._spawn = spawn
        self._speech = speech
        self.timers = CallTimers(lambda name: post(TimerFired(name)))
        self.recordings: dict[str, str] = {}  # ARI recording name -> flow name
        self.active_plays: dict[str, bool] = {}  # play_id -> barge_in
        self.stopped_plays: set[str] = set()
        self.answered = False
        self.hung_up = False
        self.flow_outcome: str | None = None

    async def execute(self, command: c.Command) -> None:
        try:
            await self._execute(command)
        except (AriNotFound, AriNotInStasis) as exc:
            raise ChannelGone(str(exc)) from exc

    async def _execute(self, command: c.Command) -> None:
        match command:
            case c.Answer():
                if not self.answered:
                    await self._ari.channels.answer(self.channel_id)
                    self.answered = True
                    self._record.answered(datetime.now(UTC))
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
            case c.EnterQueue(queue=queue):
                self._record.queue_entered(queue, datetime.now(UTC))
                # The ACD is not part of this controller yet: the queue verb takes its "no agents" path.
                self._post(QueueDone(queue=queue, outcome="no_agents"))
            case c.Transfer(target=target):
                await self._ari.channels.continue_in_dialplan(
                    self.channel_id, context="transfer", extension=target, priority=1
                )
                self.flow_outcome = self.flow_outcome or "completed"
            case c.RecordMessage(name=name, max_s=max_s, beep=beep):
                await self._record_message(name, max_s, beep)
            case c.Hangup():
                if not self.hung_up:
                    self.hung_up = True
                    await self._ari.channels.hangup(self.channel_id)
            case c.SetLanguage():
                pass  # the engine keeps the call's language; prompts carry theirs
            case c.NodeEntered(node_id=node_id):
                self._record.node_entered(node_id, datetime.now(UTC))
            case c.InputTaken():
                self._record.input_taken(command, datetime.now(UTC))
            case c.CallbackRequested():
                self._record.callback_requested(command, datetime.now(UTC))
            case c.SurveyAnswered(score=score):
                self._record.survey_answered(score, datetime.now(UTC))
            case c.OutcomeSet(outcome=outcome):
                self.flow_outcome = outcome
            case _:
                log.warning("call %s: command %r has no executor; ignored", self.call_id, command)

    async def _play(self, command: c.Play) -> None:
        uris = await self._renderer.uris(command.prompts)
        if not uris:
            self._post(PlaybackDone(play_id=command.play_id))
            return
        self.active_plays[command.play_id] = command.barge_in
        try:
            await self._ari.channels.play(
                self.channel_id, uris, playback_id=playback_id(self.call_id, command.play_id)
            )
        except (AriNotFound, AriNotInStasis):
            raise
        except AriError as exc:
            log.error("call %s: playback failed (%s); continuing without it", self.call_id, exc)
            self.active_plays.pop(command.play_id, None)
            self._post(PlaybackDone(play_id=command.play_id, stopped=True))

    async def _stop_play(self, play_id: str) -> None:
        if play_id not in self.active_plays or play_id in self.stopped_plays:
            return  # finished, or already being stopped (barge-in, then the verb's own StopPlayback)
        self.stopped_plays.add(play_id)
        with contextlib.suppress(AriNotFound):  # it may have finished on its own meanwhile
            await self._ari.playbacks.stop(playback_id(self.call_id, play_id))

    async def barge_in(self) -> None:
        """A key was pressed: stop every playing prompt that allows barge-in."""
        for play_id, barge in list(self.active_plays.items()):
            if barge:
                await self._stop_play(play_id)

    def playback_finished(self, play_id: str) -> None:
        self.active_plays.pop(play_id, None)

    async def _lookup(self, command: c.HttpLookup) -> None:
        try:
            timeout = aiohttp.ClientTimeout(total=command.timeout_s)
            async with self._http.request(
                command.method, command.url, json=command.body, timeout=timeout
            ) as resp:
                raw = await resp.content.read(LOOKUP_BODY_LIMIT + 1)
                if len(raw) > LOOKUP_BODY_LIMIT:
                    raise ValueError("response larger than 256 KiB")
                data: Any = None
                if raw:
                    data = json.loads(raw)
                if resp.status >= 400:
                    self._post(
                        LookupDone(command.request_id, False, resp.status, None, f"HTTP {resp.status}")
                    )
                elif not isinstance(data, dict):
                    self._post(LookupDone(command.request_id, False, resp.status, None, "not a JSON object"))
                else:
                    self._post(LookupDone(command.request_id, True, resp.status, data))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # any failure is the lookup's failure branch, never the call's end
            log.warning("call %s: lookup %s failed: %s", self.call_id, command.url, exc)
            self._post(LookupDone(command.request_id, False, None, None, str(exc) or type(exc).__name__))

    async def _record_message(self, name: str, max_s: float, beep: bool) -> None:
        safe = "".join(ch for ch in name if ch.isalnum() or ch in "-_") or "message"
        recording = f"{self.call_id}-{safe}"
        self.recordings[recording] = name
        try:
            await self._ari.channels.record(
                self.channel_id,
                name=recording,
                format="wav",
                max_duration=int(max_s),
                max_silence=5,
                beep=beep,
                terminate_on="#",
                if_exists="overwrite",
            )
        except (AriNotFound, AriNotInStasis):
            raise
        except AriError as exc:
            log.error("call %s: recording could not start: %s", self.call_id, exc)
            self._post(RecordingDone(name=name, duration_s=0.0, ok=False))

    def shutdown(self) -> None:
        self.timers.cancel_all()
        if self._speech is not None:
            self._speech.close()  # tears the call's snoop/externalMedia legs down in the background
