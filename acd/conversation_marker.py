"""The mark a conversation leaves on the caller's channel, so no kill can lose it.

When the dispatcher has bridged a caller with an operator it sets ``IVR_TALKED`` on the caller's channel
(and empties it when an escalation puts the caller back in line). The channel is the one record that
lives exactly as long as the call and survives the controller. A controller killed before its store
writes landed (the answer, the offer's end, the caller's next node) leaves the next one a caller at its
queue node and perhaps no bridge at all: without the mark that caller would be queued again as if never
put through, and the operator it talked with would be unknown. ``ari.conf`` ``channelvars`` puts the
mark in ``GET /channels``, which the reconcile reads anyway.

The value names the call, the operator and the wait it belongs to (its queue entry time, to the
millisecond): a caller that queues again later carries an old mark that no longer matches its wait.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

VAR = "IVR_TALKED"


@dataclass(frozen=True)
class Talked:
    call_id: str
    agent: str
    wait: str
    """``wait_key`` of the queue entry the conversation ended."""


def wait_key(entered_at: datetime) -> str:
    """A queue entry's time as milliseconds since the epoch (a naive time is taken as UTC)."""
    if entered_at.tzinfo is None:
        entered_at = entered_at.replace(tzinfo=UTC)
    return str(round(entered_at.timestamp() * 1000))


def mark(call_id: str, agent: str, entered_at: datetime) -> str:
    return f"{call_id} {agent} {wait_key(entered_at)}"


def read(value: str | None) -> Talked | None:
    """The mark in a channel variable's value; None when absent or not one of ours."""
    parts = (value or "").split()
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return Talked(*parts)
