"""Commands: what the pure flow engine asks the call session to do.

The engine never performs I/O. It returns these values; ``ivr.calls.session`` executes them over ARI
(or ``ivr.flows.simulate`` prints them) and feeds the outcome back as an ``ivr.flows.events`` event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ivr.prompts import Prompt


@dataclass(frozen=True)
class Answer:
    """Answer the channel (no-op when already up)."""


@dataclass(frozen=True)
class Play:
    """Play prompts in order. ``PlaybackDone(play_id)`` follows when all finished or were stopped.

    ``barge_in``: a DTMF key (or speech) stops the playback at once.
    """

    play_id: str
    prompts: tuple[Prompt, ...]
    barge_in: bool = True


@dataclass(frozen=True)
class StopPlayback:
    play_id: str


@dataclass(frozen=True)
class StartTimer:
    """``TimerFired(name)`` after ``seconds`` unless cancelled or restarted (same name replaces)."""

    name: str
    seconds: float


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class ListenSpeech:
    """Start (or stop, with ``words=()``) recognising speech; results come as ``SpeechRecognized``."""

    lang: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class HttpLookup:
    """An HTTP request; ``LookupDone(request_id, ...)`` follows."""

    request_id: str
    method: str
    url: str
    body: dict[str, Any] | None
    timeout_s: float


@dataclass(frozen=True)
class EnterQueue:
    """Hand the call to the ACD. ``QueueDone`` follows when the call leaves the queue without an agent
    (timeout, no agents) or after the agent leg ends."""

    queue: str
    priority: int = 0
    attributes: dict[str, str] = field(default_factory=dict)
    timeout_s: float = 300.0


@dataclass(frozen=True)
class LeaveQueue:
    """The flow takes the caller out of the queue (e.g. a callback instead of waiting). With
    ``callback_number`` the ACD keeps the caller's place for a callback to that number."""

    queue: str
    callback_number: str | None = None


@dataclass(frozen=True)
class Moh:
    """Music on hold on (``on=True``) or off for the caller."""

    on: bool


@dataclass(frozen=True)
class Transfer:
    """Send the call to an extension or department (e.g. the warehouse). ``TransferDone`` follows."""

    target: str
    timeout_s: float = 30.0


@dataclass(frozen=True)
class RecordMessage:
    """Record the caller (voicemail). ``RecordingDone`` follows."""

    name: str
    max_s: float
    beep: bool = True


@dataclass(frozen=True)
class Hangup:
    reason: str = "normal"


@dataclass(frozen=True)
class SetLanguage:
    lang: str


# --- bookkeeping: written to the call record, no effect on the channel ---


@dataclass(frozen=True)
class NodeEntered:
    node_id: str


@dataclass(frozen=True)
class InputTaken:
    """A complete input (menu choice, collected digits, confirmation). ``value`` is already masked
    when the node is sensitive."""

    node_id: str
    kind: str  # "dtmf" | "speech"
    value: str
    sensitive: bool = False


@dataclass(frozen=True)
class CallbackRequested:
    number: str
    preferred_time: str | None
    note: str | None = None


@dataclass(frozen=True)
class SurveyAnswered:
    score: int


@dataclass(frozen=True)
class OutcomeSet:
    """The call's outcome as the flow sees it (completed|abandoned|voicemail|callback|failed)."""

    outcome: str


Command = (
    Answer
    | Play
    | StopPlayback
    | StartTimer
    | CancelTimer
    | ListenSpeech
    | HttpLookup
    | EnterQueue
    | LeaveQueue
    | Moh
    | Transfer
    | RecordMessage
    | Hangup
    | SetLanguage
    | NodeEntered
    | InputTaken
    | CallbackRequested
    | SurveyAnswered
    | OutcomeSet
)
