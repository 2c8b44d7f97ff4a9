from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ivr.web.auth import AdminTokenError, bearer_token_matches, resolve_admin_token


def test_setting_wins(tmp_path: Path) -> None:
    assert resolve_admin_token("  s3cret-token  ", tmp_path) == ("s3cret-token", False)
    assert not (tmp_path / "admin_token").exists()


def test_generated_once_and_stable(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token, generated = resolve_admin_token(None, data)
    assert generated and len(token) >= 32
    path = data / "admin_token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_admin_token("", data) == (token, True)
    assert resolve_admin_token(None, data)[0] == token


def test_loose_permissions_tightened_and_garbage_replaced(tmp_path: Path) -> None:
    token, _ = resolve_admin_token(None, tmp_path)
    path = tmp_path / "admin_token"
    path.chmod(0o644)
    assert resolve_admin_token(None, tmp_path)[0] == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("short\n")
    new, generated = resolve_admin_token(None, tmp_path)
    assert generated and new != "short" and len(new) >= 32


def test_unusable_setting_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AdminTokenError, match="IVR_ADMIN_TOKEN"):
        resolve_admin_token("has space", tmp_path)


def test_bearer_token_matches() -> None:
    assert bearer_token_matches("Bearer abc", "abc")
    assert bearer_token_matches("bearer abc", "abc")
    assert not bearer_token_matches(None, "abc")
    assert not bearer_token_matches("Bearer abd", "abc")
    assert not bearer_token_matches("Token abc", "abc")
    assert not bearer_token_matches("Bearer 山田", "abc")
