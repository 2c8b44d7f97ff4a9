from __future__ import annotations

import json
from pathlib import Path

import pytest

from ivr.pbx.errors import PbxError
from ivr.pbx.secrets import load_or_create_ari_password


def test_password_is_random_private_and_stable(tmp_path: Path) -> None:
    first = load_or_create_ari_password(tmp_path / "data")
    second = load_or_create_ari_password(tmp_path / "data")
    other = load_or_create_ari_password(tmp_path / "other")
    path = tmp_path / "data" / "secrets.json"
    assert first == second and first != other and len(first) >= 24
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["ari_password"] == first


def test_other_secrets_are_kept(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text('{"admin_token": "abc"}')
    password = load_or_create_ari_password(tmp_path)
    data = json.loads((tmp_path / "secrets.json").read_text())
    assert data == {"admin_token": "abc", "ari_password": password}
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_loose_permissions_are_tightened(tmp_path: Path) -> None:
    password = load_or_create_ari_password(tmp_path)
    (tmp_path / "secrets.json").chmod(0o644)
    assert load_or_create_ari_password(tmp_path) == password
    assert (tmp_path / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text("{nope")
    with pytest.raises(PbxError, match="not valid JSON"):
        load_or_create_ari_password(tmp_path)


def test_a_new_data_dir_is_private(tmp_path: Path) -> None:
    data = tmp_path / "var"
    load_or_create_ari_password(data)
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "secrets.json").stat().st_mode & 0o777 == 0o600
