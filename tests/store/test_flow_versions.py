from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr.store import CallStore

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


async def test_versions_are_numbered_per_flow(store: CallStore) -> None:
    first = await store.add_flow_version("shop", "name: shop\n", "admin", "first", at=T0)
    second = await store.add_flow_version("shop", "name: shop # 2\n", "alice", at=T0 + timedelta(1))
    other = await store.add_flow_version("echo", "name: echo\n", "admin", at=T0)
    assert (first["version"], second["version"], other["version"]) == (1, 2, 1)
    assert second["author"] == "alice"
    assert second["note"] is None
    assert first["at"] == "2025-03-01T09:00:00Z"


async def test_list_is_newest_first_without_source(store: CallStore) -> None:
    for i in range(3):
        await store.add_flow_version("shop", f"v{i}", f"user{i}", f"note {i}", at=T0 + timedelta(minutes=i))
    await store.add_flow_version("echo", "e", "admin")
    rows = await store.list_flow_versions("shop")
    assert [r["version"] for r in rows] == [3, 2, 1]
    assert [r["author"] for r in rows] == ["user2", "user1", "user0"]
    assert all("source" not in r for r in rows)
    assert [r["version"] for r in await store.list_flow_versions("shop", limit=1)] == [3]
    assert await store.list_flow_versions("nothing") == []


async def test_get_one_version_with_its_source(store: CallStore) -> None:
    await store.add_flow_version("shop", "one", "admin")
    await store.add_flow_version("shop", "two", "admin", "rollback to v1")
    got = await store.get_flow_version("shop", 2)
    assert got is not None
    assert (got["source"], got["note"], got["flow"]) == ("two", "rollback to v1", "shop")
    assert await store.get_flow_version("shop", 3) is None
    assert await store.get_flow_version("echo", 1) is None
