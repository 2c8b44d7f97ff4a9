"""Admin token: bearer-token check and the token's source (setting, file, or newly generated)."""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

TOKEN_FILE = "admin_token"  # noqa: S105 - a file name, not a secret


class AdminTokenError(ValueError):
    """The configured admin token cannot be used."""


def _usable(token: str) -> bool:
    return bool(token) and all(33 <= ord(ch) <= 126 for ch in token)


def resolve_admin_token(settings_token: str | None, data_dir: Path) -> tuple[str, bool]:
    """Return ``(token, generated)``.

    A non-empty ``settings_token`` (``IVR_ADMIN_TOKEN``) wins and ``generated`` is False.
    Otherwise the token kept in ``data_dir/admin_token`` (mode 0600) is used, creating it with a
    strong random token on first start; ``generated`` is then True, telling the caller the operator
    did not choose it and should be shown it (it stays the same across restarts).
    """
    if settings_token is not None and settings_token.strip():
        token = settings_token.strip()
        if not _usable(token):
            raise AdminTokenError("IVR_ADMIN_TOKEN must be printable ASCII without spaces")
        return token, False
    path = Path(data_dir) / TOKEN_FILE
    try:
        kept = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        kept = ""
    if _usable(kept) and len(kept) >= 16:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return kept, True
    token = secrets.token_urlsafe(32)
    write_private(path, token + "\n")
    return token, True


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by the owner only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def bearer_token_matches(authorization: str | None, token: str) -> bool:
    """Constant-time check of an ``Authorization: Bearer <token>`` header value."""
    if not authorization:
        return False
    scheme, _, given = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8"))
