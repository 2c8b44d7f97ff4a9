from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from ivr.cli import build_parser
from ivr.store import CallStore, UserRecord, default_db_url
from ivr.web.passwords import verify_password


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = default_db_url(tmp_path)
    monkeypatch.setenv("IVR_DB_URL", url)
    monkeypatch.setenv("IVR_DATA_DIR", str(tmp_path))
    return url


def ivr_users(*argv: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    if stdin is not None and monkeypatch is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    args = build_parser().parse_args(["users", *argv])
    return int(args.func(args))


def get_user(url: str, name: str) -> UserRecord | None:
    async def read() -> UserRecord | None:
        store = CallStore(url)
        await store.open()
        try:
            return await store.get_user(name)
        finally:
            await store.close()

    return asyncio.run(read())


def test_add_with_a_generated_password(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert ivr_users("add", "sam", "--role", "supervisor") == 0
    out = capsys.readouterr().out
    password = out.split("password: ")[1].split()[0]
    user = get_user(db, "sam")
    assert user is not None and user.role == "supervisor" and user.agent_id is None
    assert verify_password(user.password_hash, password)


def test_add_agent_with_password_from_stdin(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = ivr_users(
        "add",
        "hanako",
        "--role",
        "agent",
        "--agent",
        "2101",
        "--password-stdin",
        stdin="from-stdin-pw\n",
        monkeypatch=monkeypatch,
    )
    assert code == 0
    assert "password:" not in capsys.readouterr().out
    user = get_user(db, "hanako")
    assert user is not None and user.agent_id == "2101"
    assert verify_password(user.password_hash, "from-stdin-pw")


def test_add_refuses_bad_input_and_duplicates(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ivr_users("add", "Bad Name", "--role", "admin") == 2
    assert "name must be" in capsys.readouterr().err
    assert (
        ivr_users(
            "add", "sam", "--role", "admin", "--password-stdin", stdin="short\n", monkeypatch=monkeypatch
        )
        == 2
    )
    assert "at least 10" in capsys.readouterr().err
    assert ivr_users("add", "sam", "--role", "admin") == 0
    assert ivr_users("add", "sam", "--role", "agent") == 2
    assert "exists" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        ivr_users("add", "x", "--role", "root")


def test_passwd(db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert ivr_users("add", "sam", "--role", "supervisor") == 0
    assert (
        ivr_users("passwd", "sam", "--password-stdin", stdin="brand-new-pw\n", monkeypatch=monkeypatch) == 0
    )
    user = get_user(db, "sam")
    assert user is not None and verify_password(user.password_hash, "brand-new-pw")

    answers = iter(["prompted-pw-1", "prompted-pw-1"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert ivr_users("passwd", "sam") == 0
    user = get_user(db, "sam")
    assert user is not None and verify_password(user.password_hash, "prompted-pw-1")

    differing = iter(["prompted-pw-2", "prompted-pw-3"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(differing))
    assert ivr_users("passwd", "sam") == 2
    assert "differ" in capsys.readouterr().err

    assert ivr_users("passwd", "nobody", "--generate") == 1


def test_list_never_shows_hashes(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert ivr_users("add", "sam", "--role", "supervisor") == 0
    assert ivr_users("add", "alice", "--role", "agent") == 0
    capsys.readouterr()
    assert ivr_users("list") == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [(r[0], r[1], r[2]) for r in rows] == [("alice", "agent", "alice"), ("sam", "supervisor", "-")]
    assert "argon2" not in out
