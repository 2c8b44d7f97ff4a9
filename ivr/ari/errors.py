"""Errors raised by the ARI client.

Every error the client raises derives from `AriError`, so one ``except AriError`` covers them all::

    AriError                      anything that went wrong talking to Asterisk
    ├── AriConnectionError        no HTTP answer (``may_have_run`` says whether the request could have acted)
    │   ├── AriConnectError       never sent: refused, DNS, connect timeout — safe to retry
    │   └── AriResponseLost       sent, but no answer came: read timeout, reset — it MAY have run, so an
    │                             originate or a hangup must not be retried blindly
    └── AriHTTPError              Asterisk answered with an error status (status, method, path, message)
        ├── AriBadRequest         400  bad or missing parameter
        ├── AriAuthError          401/403  wrong ARI user or password, or forbidden
        ├── AriNotFound           404  no such channel/bridge/playback/recording/application…
        ├── AriNotInStasis        409  the channel is not in a Stasis application (or a conflict)
        ├── AriUnprocessable      422  the request is well formed but refers to something unusable
        └── AriServerError        5xx  Asterisk failed internally

Other error statuses (e.g. 412, a channel in the wrong state) raise a plain `AriHTTPError`.
`AriHTTPError.message` is Asterisk's ``"message"`` from the JSON error body when present, otherwise the
HTTP reason phrase.
"""

from __future__ import annotations


class AriError(Exception):
    """Base class of every error raised by `ivr.ari`."""


class AriConnectionError(AriError):
    """Asterisk could not be reached, or the connection broke or timed out (also: WebSocket dropped)."""

    may_have_run: bool = True
    """False only when the request certainly never reached Asterisk (retry-safe)."""


class AriConnectError(AriConnectionError):
    """The connection could not be made; the request was never sent. Safe to retry."""

    may_have_run = False


class AriResponseLost(AriConnectionError):
    """The request was sent but no complete answer came back (timeout, reset): it may have run."""

    may_have_run = True


class AriHTTPError(AriError):
    """Asterisk answered a request with an error status."""

    def __init__(self, status: int, method: str, path: str, message: str) -> None:
        super().__init__(f"{method} {path} -> {status}: {message}")
        self.status = status
        self.method = method
        self.path = path
        self.message = message


class AriBadRequest(AriHTTPError):
    """400: a parameter is missing or invalid."""


class AriAuthError(AriHTTPError):
    """401 or 403: the ARI user/password is wrong, or the operation is forbidden."""


class AriNotFound(AriHTTPError):
    """404: the channel, bridge, playback, recording, application or endpoint does not exist."""


class AriNotInStasis(AriHTTPError):
    """409: the channel is not in a Stasis application (or the request conflicts with current state)."""


class AriUnprocessable(AriHTTPError):
    """422: the request refers to something Asterisk cannot use (e.g. a channel in another bridge)."""


class AriServerError(AriHTTPError):
    """5xx: Asterisk failed internally."""


_BY_STATUS: dict[int, type[AriHTTPError]] = {
    400: AriBadRequest,
    401: AriAuthError,
    403: AriAuthError,
    404: AriNotFound,
    409: AriNotInStasis,
    422: AriUnprocessable,
}


def error_for_status(status: int, method: str, path: str, message: str) -> AriHTTPError:
    """The typed error for an HTTP error status."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        cls = AriServerError if status >= 500 else AriHTTPError
    return cls(status, method, path, message)
