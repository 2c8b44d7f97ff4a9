"""The ARI password: random, generated once, kept in ``data_dir/secrets.json`` (mode 0600)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from ivr.pbx.errors import PbxError

SECRETS_FILE = "secrets.json"
_KEY = "ari_password"


def load_or_create_ari_password(data_dir: Path) -> str:
    """Return the stored ARI password, creating and storing a random one on first use."""
    path = data_dir / SECRETS_FILE
    data = _read(path)
    value = data.get(_KEY)
    if isinstance(value, str) and value:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return value
    data[_KEY] = secrets.token_urlsafe(24)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new data dir is private too
    tmp = path.with_name(f".{SECRETS_FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(tmp, 0o600)
    if path.exists():  # other secrets live there: keep them, add ours
        os.replace(tmp, path)
        return str(data[_KEY])
    try:
        os.link(tmp, path)  # fails if another process stored one first: then theirs wins
    except FileExistsError:
        os.unlink(tmp)
        return load_or_create_ari_password(data_dir)
    os.unlink(tmp)
    return str(data[_KEY])


def _read(path: Path) -> dict[str, object]:
    try:
        raw = path.read_text()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise PbxError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PbxError(f"{path} is not valid JSON (line {exc.lineno}); fix or delete it") from exc
    if not isinstance(data, dict):
        raise PbxError(f"{path} must hold a JSON object; fix or delete it")
    return data
