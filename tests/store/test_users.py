from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ivr.store import CallStore, UserExistsError, session_token_hash
from ivr.store.models import WebSessionRow

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def test_add_get_list(store: CallStore) -> None:
    added = await store.add_user("zoe", "hash-z", "supervisor", None, T0)
    await store.add_user("alice", "hash-a", "agent", "alice", T0 + HOUR)
    assert added.name == "zoe" and added.role == "supervisor" and not added.disabled
    alice = await store.get_user("alice")
    assert alice is not None
    assert (alice.role, alice.agent_id, alice.password_hash) == ("agent", "alice", "hash-a")
    assert alice.created_at == T0 + HOUR and alice.created_at.tzinfo is not None
    assert [u.name for u in await store.list_users()] == ["alice", "zoe"]
    assert await store.get_user("nobody") is None


async def test_duplicate_name_refused(store: CallStore) -> None:
    await store.add_user("bob", "h1", "admin", None, T0)
    with pytest.raises(UserExistsError):
        await store.add_user("bob", "h2", "agent", "bob", T0)
    user = await store.get_user("bob")
    assert user is not None and user.password_hash == "h1"


async def test_session_round_trip_and_expiry(store: CallStore) -> None:
    await store.add_user("carol", "h", "agent", "carol", T0)
    await store.create_web_session("tok-1", "carol", "csrf-1", T0, T0 + HOUR)
    found = await store.find_web_session("tok-1", T0 + timedelta(minutes=59))
    assert found is not None
    assert (found.user.name, found.user.agent_id, found.csrf_token) == ("carol", "carol", "csrf-1")
    assert await store.find_web_session("tok-1", T0 + HOUR) is None  # expired at its expiry time
    assert await store.find_web_session("tok-2", T0) is None


async def test_only_the_token_hash_is_stored(store: CallStore) -> None:
    await store.add_user("dan", "h", "admin", None, T0)
    await store.create_web_session("secret-cookie-token", "dan", "c", T0, T0 + HOUR)
    async with store._session() as session:
        hashes = list((await session.execute(select(WebSessionRow.token_hash))).scalars())
    assert hashes == [session_token_hash("secret-cookie-token")]
    assert "secret-cookie-token" not in hashes[0]


async def test_delete_session_and_expired(store: CallStore) -> None:
    await store.add_user("erin", "h", "admin", None, T0)
    await store.create_web_session("a", "erin", "c", T0, T0 + HOUR)
    await store.create_web_session("b", "erin", "c", T0, T0 + 3 * HOUR)
    await store.create_web_session("c", "erin", "c", T0, T0 + 3 * HOUR)
    await store.delete_web_session("c")
    assert await store.find_web_session("c", T0) is None
    assert await store.delete_expired_web_sessions(T0 + 2 * HOUR) == 1
    assert await store.find_web_session("b", T0 + 2 * HOUR) is not None
    assert await store.find_web_session("a", T0) is None


async def test_password_change_ends_that_users_sessions(store: CallStore) -> None:
    await store.add_user("fay", "old", "agent", "fay", T0)
    await store.add_user("gus", "h", "agent", "gus", T0)
    await store.create_web_session("fay-tok", "fay", "c", T0, T0 + HOUR)
    await store.create_web_session("gus-tok", "gus", "c", T0, T0 + HOUR)
    assert await store.set_user_password("fay", "new", T0 + timedelta(minutes=5))
    user = await store.get_user("fay")
    assert user is not None and user.password_hash == "new"
    assert user.password_changed_at == T0 + timedelta(minutes=5)
    assert await store.find_web_session("fay-tok", T0) is None
    assert await store.find_web_session("gus-tok", T0) is not None
    assert not await store.set_user_password("nobody", "x", T0)


async def test_disable_ends_sessions_and_enable_restores(store: CallStore) -> None:
    await store.add_user("hal", "h", "supervisor", None, T0)
    await store.create_web_session("hal-tok", "hal", "c", T0, T0 + HOUR)
    assert await store.set_user_disabled("hal", True)
    user = await store.get_user("hal")
    assert user is not None and user.disabled
    assert await store.find_web_session("hal-tok", T0) is None
    assert await store.set_user_disabled("hal", False)
    user = await store.get_user("hal")
    assert user is not None and not user.disabled
    assert not await store.set_user_disabled("nobody", True)
