"""Channels the controller creates for a call (agent, transfer, snoop and media legs) and who owns them.

Every such channel gets an id starting with ``LEG_ID_PREFIX`` and enters the Stasis app with a first
argument starting with ``LEG_ARG_PREFIX``, so it is never mistaken for a caller — also after a
controller restart, when only the id is known. The manager hands each event about a leg to the leg's
owner (the caller's session, or the ACD's dispatcher) instead of dropping it.
"""

from __future__ import annotations

from collections.abc import Callable

from ivr.ari.events import AriEvent, ChannelStateChange, Dial
from ivr.ari.models import Channel

LEG_ID_PREFIX = "leg-"
LEG_ARG_PREFIX = "leg:"
HELPER_CHANNEL_PREFIXES = ("Snoop/", "UnicastRTP/", "AudioSocket/", "WebSocket/")

LegOwner = Callable[[AriEvent], None]


def leg_id(owner_call_id: str, kind: str, n: int | str) -> str:
    """A leg's channel id: ``leg-<call id>-<kind><n>``; unique and recognisable after a restart."""
    return f"{LEG_ID_PREFIX}{owner_call_id}-{kind}{n}"


def is_leg(channel: Channel, args: tuple[str, ...] = ()) -> bool:
    """A channel the controller created (never a caller)."""
    if args and args[0].startswith(LEG_ARG_PREFIX):
        return True
    return channel.id.startswith(LEG_ID_PREFIX) or channel.name.startswith(HELPER_CHANNEL_PREFIXES)


def is_ringing(event: AriEvent) -> bool:
    """A leg's phone rings: Asterisk reports it as a ``Dial`` (RINGING) for an originated channel, or as
    the channel's state."""
    if isinstance(event, Dial):
        return event.dialstatus == "RINGING"
    return isinstance(event, ChannelStateChange) and event.channel.state == "Ringing"


class LegRegistry:
    """Leg channel id → the owner that receives its events, in arrival order."""

    def __init__(self) -> None:
        self._owners: dict[str, LegOwner] = {}

    def claim(self, channel_id: str, owner: LegOwner) -> None:
        self._owners[channel_id] = owner

    def release(self, channel_id: str) -> None:
        self._owners.pop(channel_id, None)

    def owner(self, channel_id: str) -> LegOwner | None:
        return self._owners.get(channel_id)

    def __len__(self) -> int:
        return len(self._owners)

    def __contains__(self, channel_id: object) -> bool:
        return channel_id in self._owners
