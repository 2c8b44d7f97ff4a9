"""The ports the call layer talks through: the slice of ARI it uses, and the ACD's queue.

``AriClient`` satisfies ``AriPort`` structurally; unit tests hand sessions, executors, managers and the
ACD's dispatcher a small recording fake instead (``tests/calls/fake_ari.py``). ``QueuePort`` is what the
executor calls for ``EnterQueue``: ``NoAgentsQueue`` (every queue answers "no agents") is the
implementation when no ACD is wired; ``acd`` provides the real one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ivr.ari.models import Application, Bridge, Channel, LiveRecording, Playback
from ivr.flows.events import Event, QueueDone


class ChannelsPort(Protocol):
    async def get(self, id: str) -> Channel: ...
    async def answer(self, id: str) -> None: ...
    async def ring(self, id: str) -> None: ...
    async def ring_stop(self, id: str) -> None: ...
    async def hangup(self, id: str, reason: str = "normal") -> None: ...
    async def play(
        self, id: str, media: Sequence[str], *, playback_id: str | None = None, lang: str | None = None
    ) -> Playback: ...
    async def originate(
        self,
        endpoint: str,
        *,
        app: str | None = None,
        app_args: str | None = None,
        channel_id: str | None = None,
        caller_id: str | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - Asterisk's ring timeout (seconds)
        variables: Mapping[str, str] | None = None,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
    ) -> Channel: ...
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
    ) -> LiveRecording: ...
    async def start_moh(self, id: str, moh_class: str | None = None) -> None: ...
    async def stop_moh(self, id: str) -> None: ...
    async def set_var(self, id: str, name: str, value: str) -> None: ...
    async def continue_in_dialplan(
        self,
        id: str,
        *,
        context: str | None = None,
        extension: str | None = None,
        priority: int | None = None,
    ) -> None: ...


class BridgesPort(Protocol):
    async def create(
        self, *, bridge_type: str = "mixing", bridge_id: str | None = None, name: str | None = None
    ) -> Bridge: ...
    async def add_channel(self, id: str, channels: Sequence[str]) -> None: ...
    async def remove_channel(self, id: str, channels: Sequence[str]) -> None: ...
    async def destroy(self, id: str) -> None: ...


class PlaybacksPort(Protocol):
    async def stop(self, id: str) -> None: ...


class ApplicationsPort(Protocol):
    async def get(self, name: str) -> Application: ...
    async def filter_events(
        self, name: str, *, allowed: Sequence[str] = (), disallowed: Sequence[str] = ()
    ) -> Application: ...


class AriPort(Protocol):
    """The part of ARI that calls and the ACD use."""

    @property
    def app(self) -> str: ...
    @property
    def channels(self) -> ChannelsPort: ...
    @property
    def bridges(self) -> BridgesPort: ...
    @property
    def playbacks(self) -> PlaybacksPort: ...
    @property
    def applications(self) -> ApplicationsPort: ...


@dataclass(frozen=True)
class QueueRequest:
    """A caller the flow hands to the ACD (``EnterQueue``), with what the operator's screen pop shows."""

    call_id: str
    channel_id: str
    queue: str
    priority: int
    lang: str
    entered_at: datetime
    timeout_s: float
    caller_number: str = ""
    caller_name: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)


class QueuePort(Protocol):
    """The ACD as the call layer sees it. Results come back through ``post`` as flow events in the
    call's own ordered queue: ``QueueStatus`` while waiting, ``AgentConnected`` on answer, ``QueueDone``
    when the call leaves the queue (timeout, no agents) or the agent's leg ended."""

    def enter(self, request: QueueRequest, post: Callable[[Event], None]) -> None: ...

    def leave(self, call_id: str, reason: str, *, callback_number: str | None = None) -> None:
        """The call left without an agent (caller hung up, flow moved on). With ``callback_number`` the
        caller chose a callback instead of waiting: the ACD keeps the place and calls that number back."""
        ...

    def request_callback(self, call_id: str, number: str, queue: str, note: str | None) -> None:
        """A callback promised outside a queue (e.g. after hours): it waits in ``queue`` like a call."""
        ...


class NoAgentsQueue:
    """No ACD wired: every queue answers "no agents" at once, so the flow takes its fallback."""

    def enter(self, request: QueueRequest, post: Callable[[Event], None]) -> None:
        post(QueueDone(queue=request.queue, outcome="no_agents"))

    def leave(self, call_id: str, reason: str, *, callback_number: str | None = None) -> None:
        return None

    def request_callback(self, call_id: str, number: str, queue: str, note: str | None) -> None:
        return None  # stored by the call record; staff work the list (GET /api/callbacks)
