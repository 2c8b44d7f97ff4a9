"""`AriClient`: ARI over HTTP (basic auth, JSON in and out, typed errors).

``base_url`` is Asterisk's HTTP server, with or without the ARI prefix: ``http://127.0.0.1:8088`` and
``http://127.0.0.1:8088/ari`` mean the same. Request paths are relative to the ARI root
(``/channels``). `AriClient.request` is the only place HTTP happens; it never retries (the caller
knows whether an operation is safe to repeat).
"""

from __future__ import annotations

import base64
import json as jsonlib
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from yarl import URL

from ivr.ari.errors import AriConnectError, AriResponseLost, error_for_status
from ivr.ari.resources import (
    Applications,
    AsteriskResource,
    Bridges,
    Channels,
    Endpoints,
    Params,
    Playbacks,
    Recordings,
)

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = aiohttp.ClientTimeout(total=15.0, connect=5.0, sock_read=15.0)


def _ari_root(base_url: str) -> URL:
    url = URL(base_url.rstrip("/"))
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"ARI base URL must be http(s)://host[:port][/ari], got {base_url!r}")
    if not url.path.rstrip("/").endswith("/ari"):
        url = url.with_path(url.path.rstrip("/") + "/ari")
    return url.with_query(None).with_fragment(None)


def _encode_params(params: Params | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out.append((key, "true" if value else "false"))
        else:
            out.append((key, str(value)))
    return out


class AriClient:
    """An ARI connection to one Asterisk for one Stasis application (`app`)."""

    def __init__(
        self,
        base_url: str,
        user: str,
        password: str,
        app: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeout: aiohttp.ClientTimeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.root = _ari_root(base_url)
        self.user = user
        self.password = password
        self.app = app
        self.timeout = timeout
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        self.auth_headers = {"Authorization": f"Basic {token}"}
        """Basic-auth header for every HTTP request and the events WebSocket."""
        self._session = session
        self._owns_session = session is None
        self.channels = Channels(self)
        self.bridges = Bridges(self)
        self.playbacks = Playbacks(self)
        self.applications = Applications(self)
        self.asterisk = AsteriskResource(self)
        self.endpoints = Endpoints(self)
        self.recordings = Recordings(self)

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session (created on first use when none was given)."""
        if self._session is None or (self._owns_session and self._session.closed):
            self._session = aiohttp.ClientSession()
            self._owns_session = True
        return self._session

    @property
    def events_url(self) -> URL:
        """The events WebSocket URL for this client's application."""
        scheme = "wss" if self.root.scheme == "https" else "ws"
        url = self.root.with_scheme(scheme).with_path(self.root.path + "/events")
        return url.with_query({"app": self.app, "subscribeAll": "false"})

    def url(self, path: str) -> URL:
        """The absolute URL of an ARI path (``/channels/abc``); `path` must already be quoted."""
        if not path.startswith("/"):
            path = "/" + path
        return URL(str(self.root) + path, encoded=True)

    async def request(self, method: str, path: str, *, params: Params | None = None, json: Any = None) -> Any:
        """Send one ARI request; returns the decoded JSON body, or None when there is none.

        Raises an `AriHTTPError` subclass for an error status, `AriConnectError` when Asterisk cannot be
        reached (the request was never sent: retry-safe) and `AriResponseLost` when it was sent but no
        answer came (it may have run).
        """
        method = method.upper()
        query = _encode_params(params)
        try:
            async with self.session.request(
                method,
                self.url(path),
                params=query or None,
                json=json,
                headers=self.auth_headers,
                timeout=self.timeout,
            ) as resp:
                body = await resp.read()
                status = resp.status
                reason = resp.reason or ""
                content_type = resp.content_type
        except (aiohttp.ClientConnectorError, aiohttp.ClientProxyConnectionError) as exc:
            raise AriConnectError(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        except aiohttp.ConnectionTimeoutError as exc:  # connect phase timed out: nothing was sent
            raise AriConnectError(f"{method} {path}: connect timeout: {exc}") from exc
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise AriResponseLost(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        decoded = _decode(body, content_type)
        if status >= 400:
            message = _error_message(decoded) or reason or f"HTTP {status}"
            log.debug("ARI %s %s -> %d %s", method, path, status, message)
            raise error_for_status(status, method, path, message)
        return decoded

    async def close(self) -> None:
        """Close the HTTP session if this client created it."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def __aenter__(self) -> AriClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _decode(body: bytes, content_type: str) -> Any:
    if not body:
        return None
    try:
        return jsonlib.loads(body)
    except ValueError:
        if content_type == "application/json":
            log.warning("ARI sent invalid JSON (%d bytes)", len(body))
        return body.decode("utf-8", "replace")


def _error_message(decoded: Any) -> str:
    if isinstance(decoded, Mapping):
        for key in ("message", "error"):
            value = decoded.get(key)
            if isinstance(value, str) and value:
                return value
    return ""
