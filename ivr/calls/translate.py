"""ARI events → flow events for one call. Pure."""

from __future__ import annotations

from collections.abc import Container

from ivr.ari.events import AriEvent, ChannelDtmfReceived, PlaybackFinished
from ivr.flows.events import DtmfReceived, Event, PlaybackDone

VALID_DTMF = frozenset("0123456789*#ABCD")


def playback_id(call_id: str, play_id: str) -> str:
    """The ARI playback id for a flow ``Play``; unique across calls, so events map back."""
    return f"pb-{call_id}-{play_id}"


def to_flow_event(event: AriEvent, *, call_id: str, stopped: Container[str] = frozenset()) -> Event | None:
    """The flow event an ARI event means for this call, or None when it means nothing to the flow.

    A DTMF "digit" outside 0-9 * # A-D (a broken or hostile peer) is dropped here, never reaching a verb.
    """
    if isinstance(event, ChannelDtmfReceived):
        digit = event.digit.upper() if isinstance(event.digit, str) else ""
        return DtmfReceived(digit) if len(digit) == 1 and digit in VALID_DTMF else None
    if isinstance(event, PlaybackFinished):
        prefix = f"pb-{call_id}-"
        pid = event.playback.id
        if not pid.startswith(prefix):
            return None
        play_id = pid[len(prefix) :]
        return PlaybackDone(play_id=play_id, stopped=play_id in stopped)
    return None
