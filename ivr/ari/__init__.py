"""Thin typed ARI (Asterisk REST Interface) client: see docs/internals.md "ARI client"."""

from ivr.ari.client import AriClient
from ivr.ari.errors import (
    AriAuthError,
    AriBadRequest,
    AriConnectError,
    AriConnectionError,
    AriError,
    AriHTTPError,
    AriNotFound,
    AriNotInStasis,
    AriResponseLost,
    AriServerError,
    AriUnprocessable,
)
from ivr.ari.events import AriEvent, UnknownEvent, channel_id_of, parse_event
from ivr.ari.stream import EventStream

__all__ = [
    "AriAuthError",
    "AriBadRequest",
    "AriClient",
    "AriConnectError",
    "AriConnectionError",
    "AriError",
    "AriEvent",
    "AriHTTPError",
    "AriNotFound",
    "AriNotInStasis",
    "AriResponseLost",
    "AriServerError",
    "AriUnprocessable",
    "EventStream",
    "UnknownEvent",
    "channel_id_of",
    "parse_event",
]
