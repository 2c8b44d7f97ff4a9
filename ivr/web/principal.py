"""Who is making a request: set by the access middleware (``ivr.web.access``) before any handler runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp import web


@dataclass(frozen=True)
class Principal:
    user: str
    role: str
    """``admin``, ``supervisor`` or ``agent`` (``ivr.web.policy.ROLES``)."""
    agent_id: str | None = None
    """The ACD agent an ``agent`` user is."""
    csrf_token: str | None = None
    """The session's CSRF token (pages put it in a meta tag); ``None`` for the bearer token."""
    via: Literal["session", "token"] = "session"


PRINCIPAL_KEY: web.RequestKey[Principal] = web.RequestKey("principal", Principal)


def principal_of(request: web.Request) -> Principal | None:
    """The signed-in user of ``request``, or ``None`` on a public route without a session."""
    return request.get(PRINCIPAL_KEY)
