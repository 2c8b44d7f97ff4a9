from __future__ import annotations

import stat
from pathlib import Path

import pytest

from ivr.store import CallStore
from ivr.web.bootstrap import ensure_users
from ivr.web.passwords import WeakPasswordError, verify_password


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_first_start_creates_admin_and_agents(store: CallStore, tmp_path: Path) -> None:
    data = tmp_path / "var"
    lines = await ensure_users(store, data, None, ["2101", "2102"])
    admin_password = (data / "admin_password").read_text().strip()
    assert mode(data / "admin_password") == 0o600
    assert any(admin_password in line for line in lines)  # shown once, in the banner
    admin = await store.get_user("admin")
    assert admin is not None and admin.role == "admin"
    assert verify_password(admin.password_hash, admin_password)

    assert mode(data / "agent_passwords") == 0o600
    kept = dict(line.split(" ", 1) for line in (data / "agent_passwords").read_text().splitlines())
    assert set(kept) == {"2101", "2102"}
    for name, password in kept.items():
        user = await store.get_user(name)
        assert user is not None and (user.role, user.agent_id) == ("agent", name)
        assert verify_password(user.password_hash, password)
        assert password not in "\n".join(lines)  # agents' passwords stay in the file


async def test_second_start_changes_nothing_and_adds_new_agents(store: CallStore, tmp_path: Path) -> None:
    await ensure_users(store, tmp_path, None, ["2101"])
    admin_file = (tmp_path / "admin_password").read_text()
    before = await store.get_user("2101")
    again = await ensure_users(store, tmp_path, None, ["2101"])
    assert again == [f"web sign-in: user admin, password in {tmp_path / 'admin_password'}"]  # where, not what
    assert admin_file.strip() not in again[0]
    assert (tmp_path / "admin_password").read_text() == admin_file
    assert await store.get_user("2101") == before

    lines = await ensure_users(store, tmp_path, None, ["2101", "2103"])
    assert len(lines) == 2 and "2103" in lines[1] and "2101" not in lines[1]
    names = [line.split(" ")[0] for line in (tmp_path / "agent_passwords").read_text().splitlines()]
    assert names == ["2101", "2103"]
    assert mode(tmp_path / "agent_passwords") == 0o600


async def test_admin_password_from_the_setting(store: CallStore, tmp_path: Path) -> None:
    lines = await ensure_users(store, tmp_path, "first-password", [])
    assert not (tmp_path / "admin_password").exists()
    assert all("first-password" not in line for line in lines)
    admin = await store.get_user("admin")
    assert admin is not None and verify_password(admin.password_hash, "first-password")
    assert await ensure_users(store, tmp_path, "first-password", []) == []  # same: untouched

    await store.create_web_session("tok", "admin", "c", admin.created_at, admin.created_at.replace(year=2999))
    assert await ensure_users(store, tmp_path, "second-password", []) != []
    admin = await store.get_user("admin")
    assert admin is not None and verify_password(admin.password_hash, "second-password")
    assert await store.find_web_session("tok", admin.created_at) is None  # old sessions ended


async def test_generated_admin_password_is_kept_when_the_setting_is_unset(
    store: CallStore, tmp_path: Path
) -> None:
    await ensure_users(store, tmp_path, "set-by-env-1", [])
    await ensure_users(store, tmp_path, None, [])
    admin = await store.get_user("admin")
    assert admin is not None and verify_password(admin.password_hash, "set-by-env-1")


async def test_short_admin_password_is_refused(store: CallStore, tmp_path: Path) -> None:
    with pytest.raises(WeakPasswordError, match="IVR_ADMIN_PASSWORD"):
        await ensure_users(store, tmp_path, "short", [])
    assert await store.get_user("admin") is None


async def test_unusable_agent_ids_are_skipped(store: CallStore, tmp_path: Path) -> None:
    await ensure_users(store, tmp_path, None, ["Bad Id", "2101"])
    assert [u.name for u in await store.list_users()] == ["2101", "admin"]
