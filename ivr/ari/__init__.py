"""Thin typed ARI (Asterisk REST Interface) client: see docs/internals.md "ARI client"."""

from ivr.ari.client import AriClient
from ivr.ari.errors import (
    AriAuthError,
    AriBadRequest,
    AriConnectionError,
    AriError,
    AriHTTPError,
    AriNotFound,
    AriNotInStasis,
    AriServerError,
    AriUnprocessable,
)
from ivr.ari.events import AriEvent, UnknownEvent, channel_id_of, parse_event
from ivr.ari.stream import EventStream

__all__ = [
    "AriAuthError",
    "AriBadRequest",
    "AriClient",
    "AriConnectionError",
    "AriError",
    "AriEvent",
    "AriHTTPError",
    "AriNotFound",
    "AriNotInStasis",
    "AriServerError",
    "AriUnprocessable",
    "EventStream",
    "UnknownEvent",
    "channel_id_of",
    "parse_event",
]
