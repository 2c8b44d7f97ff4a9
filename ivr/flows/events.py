"""Events: what the call session feeds into the pure flow engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PlaybackDone:
    play_id: str
    stopped: bool = False  # True when barge-in or StopPlayback cut it short


@dataclass(frozen=True)
class DtmfReceived:
    digit: str  # one of 0-9 * # A-D


@dataclass(frozen=True)
class SpeechRecognized:
    text: str
    confidence: float
    lang: str


@dataclass(frozen=True)
class SpeechDropped:
    """An utterance was not recognised because the recogniser pool was full (too many pending), the
    recogniser raised or it ran over its timeout: the node treats it as no match and asks again with
    keys only, so the caller is never left in silence."""

    lang: str


@dataclass(frozen=True)
class TimerFired:
    name: str


@dataclass(frozen=True)
class LookupDone:
    request_id: str
    ok: bool
    status: int | None
    data: dict[str, Any] | None
    error: str | None = None


@dataclass(frozen=True)
class QueueDone:
    """``outcome``: answered (agent took it and the agent leg ended), timeout, no_agents, unknown_queue."""

    queue: str
    outcome: str
    agent: str | None = None


@dataclass(frozen=True)
class QueueStatus:
    """While waiting: the caller's place in line (1 = next) and the expected wait in seconds."""

    queue: str
    position: int
    expected_wait_s: int


@dataclass(frozen=True)
class AgentConnected:
    """An operator answered and is bridged with the caller; ``QueueDone(answered)`` follows at the end."""

    queue: str
    agent: str


@dataclass(frozen=True)
class BackInQueue:
    """The operator sent the caller on to another queue (escalation): waiting again, place kept."""

    queue: str


@dataclass(frozen=True)
class TransferDone:
    target: str
    outcome: str  # answered | busy | no_answer | failed


@dataclass(frozen=True)
class RecordingDone:
    name: str
    duration_s: float
    ok: bool


Event = (
    PlaybackDone
    | DtmfReceived
    | SpeechRecognized
    | SpeechDropped
    | TimerFired
    | LookupDone
    | QueueDone
    | QueueStatus
    | AgentConnected
    | BackInQueue
    | TransferDone
    | RecordingDone
)
