"""HTTP API: health check and the bearer-protected ``/api/*`` (calls, flows)."""

from ivr.web.app import DEPS_KEY, CallReader, WebDeps, build_app
from ivr.web.auth import AdminTokenError, bearer_token_matches, resolve_admin_token

__all__ = [
    "DEPS_KEY",
    "AdminTokenError",
    "CallReader",
    "WebDeps",
    "bearer_token_matches",
    "build_app",
    "resolve_admin_token",
]
