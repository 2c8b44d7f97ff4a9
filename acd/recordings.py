"""Recording conversations with operators (the ARI side of ``RecordConversation``) and PCI pauses.

The distributor decides that a conversation is recorded (the queue's ``record: true``); this module
starts an ARI recording of the conversation's bridge, named ``<YYYY-MM-DD>/<call id>-<n>`` (UTC day;
``n`` counts the call's conversations: an escalated caller is recorded again with the next operator).
Asterisk writes it into its recording spool; when it finishes (``RecordingFinished``/``Failed``, which
also comes when the bridge is destroyed at the conversation's end) the file is moved to
``<recordings dir>/<YYYY-MM-DD>/<call id>-<n>.wav`` and the store is told.

Pauses **mute** the live recording (Asterisk writes silence instead of the audio) rather than pause it
(which cuts the span out): the file keeps the call's own timeline, so a pause span in the call record
(``paused_at`` → ``resumed_at``) is the same span of the file, and the card digits are not in it
either way.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from acd.events import AcdCommand, RecordConversation
from ivr.ari.errors import AriError, AriHTTPError, AriNotFound
from ivr.ari.events import AriEvent, RecordingFailed, RecordingFinished

log = logging.getLogger(__name__)

Write = Callable[[Any], Any]


class _BridgeRecording(Protocol):
    async def record(self, id: str, *, name: str, format: str = "wav", if_exists: str = "fail") -> object: ...


class _LiveRecordings(Protocol):
    async def mute(self, name: str) -> None: ...
    async def unmute(self, name: str) -> None: ...


class RecordingAri(Protocol):
    @property
    def bridges(self) -> _BridgeRecording: ...
    @property
    def recordings(self) -> _LiveRecordings: ...


class NoRecording(LookupError):
    """The call has no recording running now."""

    status = 409  # the HTTP answer of the refusal


class PauseRefused(RuntimeError):
    """A resume while a sensitive flow node runs: card details must not reach the recording."""

    status = 409


def recording_name(call_id: str, n: int, at: datetime) -> str:
    return f"{at.astimezone(UTC):%Y-%m-%d}/{call_id}-{n}"


def pause_action(paused_for: str | None, sensitive_node: bool) -> str | None:
    """What a flow node's start means for a running recording: ``"pause"`` when a sensitive node starts
    and nothing paused it yet, ``"resume"`` when a non-sensitive node follows a pause made for a
    sensitive one; ``None`` otherwise (a person's pause stays until that person resumes)."""
    if sensitive_node:
        return "pause" if paused_for is None else None
    return "resume" if paused_for == "sensitive" else None


@dataclass
class _Live:
    call_id: str
    name: str
    started_at: datetime
    paused_for: str | None = None
    sensitive_running: bool = False


class ConversationRecorder:
    def __init__(
        self,
        *,
        ari: RecordingAri,
        bridge_of: Callable[[str], str | None],
        spool: Path,
        recordings_dir: Path,
        submit: Callable[[Write], object],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ari = ari
        self._bridge_of = bridge_of
        self.spool = spool
        self.recordings_dir = recordings_dir
        self._submit = submit
        self._clock = clock
        self._count: dict[str, int] = {}
        self.live: dict[str, _Live] = {}  # call id -> its running recording
        self._by_name: dict[str, _Live] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- start ---------------------------------------------------------------------------------

    async def on_command(self, command: AcdCommand) -> None:
        """The ACD's command hook: ``RecordConversation`` starts a recording of the call's bridge."""
        if isinstance(command, RecordConversation):
            await self.start(command.call_id)

    async def start(self, call_id: str) -> str | None:
        bridge_id = self._bridge_of(call_id)
        if bridge_id is None:
            log.info("call %s: no conversation bridge to record", call_id)
            return None
        for _attempt in range(5):  # a name taken (a previous controller's recording): the next one
            n = self._count.get(call_id, 0) + 1
            self._count[call_id] = n
            now = self._clock()
            name = recording_name(call_id, n, now)
            try:
                await self._ari.bridges.record(bridge_id, name=name, format="wav", if_exists="fail")
            except AriNotFound:
                log.info("call %s: bridge %s gone before its recording started", call_id, bridge_id)
                return None
            except AriHTTPError as exc:
                if exc.status in (409, 422):
                    continue
                log.warning("call %s: recording not started: %s", call_id, exc)
                return None
            except AriError as exc:
                log.warning("call %s: recording not started: %s", call_id, exc)
                return None
            self._started(call_id, name, now)
            return name
        log.warning("call %s: recording not started: every name tried is taken", call_id)
        return None

    def _started(self, call_id: str, name: str, at: datetime) -> None:
        live = _Live(call_id, name, at)
        self.live[call_id] = live
        self._by_name[name] = live
        path = f"{name}.wav"
        self._submit(lambda store: store.recording_started(call_id, name, path, at))
        log.info("call %s: recording %s", call_id, name)

    # --- finish --------------------------------------------------------------------------------

    def on_event(self, event: AriEvent) -> None:
        """Channel-less ARI events: a bridge recording of ours finished or failed → file it."""
        if not isinstance(event, RecordingFinished | RecordingFailed):
            return
        live = self._by_name.pop(event.recording.name, None)
        if live is None:
            return
        if self.live.get(live.call_id) is live:
            del self.live[live.call_id]
        at = event.timestamp or self._clock()
        task = asyncio.get_running_loop().create_task(
            self._file(live, at, failed=event.type != "RecordingFinished")
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _file(self, live: _Live, at: datetime, *, failed: bool) -> None:
        name = live.name
        source = self.spool / f"{name}.wav"
        target = self.recordings_dir / f"{name}.wav"
        try:
            await asyncio.to_thread(_move, source, target)
            log.info("recording filed: %s", target)
        except FileNotFoundError:
            log.warning("recording %s not found in %s%s", name, self.spool, " (failed)" if failed else "")
        except OSError as exc:
            log.error("recording %s could not be filed into %s: %s", name, target.parent, exc)
        self._submit(lambda store: store.recording_ended(name, at))

    async def close(self) -> None:
        """Let the files being moved land (shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # --- pauses --------------------------------------------------------------------------------

    async def set_paused(self, call_id: str, paused: bool, *, reason: str, by: str | None) -> bool:
        """A person pauses (``reason`` operator|supervisor) or resumes the call's recording. Raises
        ``NoRecording``; ``PauseRefused`` for a resume while a sensitive node runs. Returns the new state."""
        live = self.live.get(call_id)
        if live is None:
            raise NoRecording(call_id)
        if paused:
            if live.paused_for is None:
                await self._mute(live, reason, by)
            return True
        if live.sensitive_running:
            raise PauseRefused("a sensitive step of the call flow is running; the recording stays paused")
        if live.paused_for is not None:
            await self._unmute(live)
        return False

    async def node_started(self, call_id: str, sensitive: bool) -> None:
        """A flow node of the call starts: a sensitive one pauses a running recording (reason
        ``sensitive``) until a node that is not sensitive starts."""
        live = self.live.get(call_id)
        if live is None:
            return
        live.sensitive_running = sensitive
        action = pause_action(live.paused_for, sensitive)
        if action == "pause":
            await self._mute(live, "sensitive", None)
        elif action == "resume":
            await self._unmute(live)

    async def _mute(self, live: _Live, reason: str, by: str | None) -> None:
        await self._ari.recordings.mute(live.name)
        live.paused_for = reason
        at, name = self._clock(), live.name
        self._submit(lambda store: store.recording_paused(name, reason, by, at))

    async def _unmute(self, live: _Live) -> None:
        await self._ari.recordings.unmute(live.name)
        live.paused_for = None
        at, name = self._clock(), live.name
        self._submit(lambda store: store.recording_resumed(name, at))


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))
