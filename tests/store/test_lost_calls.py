from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ivr.store import CallStore

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_open_calls_lists_unended_calls_with_their_operator(store: CallStore) -> None:
    await store.call_started("a", "main-1.1", "1", "", "7705", "acd_lines", at(0))
    await store.queue_entered("a", "t_solo", at(1))
    await store.offer_started("a", "3108", at(2))
    await store.offer_answered("a", "3108", at(3))
    await store.call_started("b", "main-1.2", "2", "", "100", "echo", at(5))
    await store.call_ended("b", at(6), "completed", "caller hung up")
    opened = await store.open_calls()
    assert [(c.id, c.channel_id, c.queue, c.agent) for c in opened] == [("a", "main-1.1", "t_solo", "3108")]


async def test_open_calls_carry_the_last_node_each_entered(store: CallStore) -> None:
    await store.call_started("a", "main-1.1", "1", "", "100", "echo", at(0))
    for n, node in enumerate(["hello", "digits", "readback", "bye"]):
        await store.node_entered("a", node, at(n + 1))
    await store.call_started("b", "main-1.2", "2", "", "100", "echo", at(5))
    await store.node_entered("b", "hello", at(6))
    await store.call_started("c", "main-1.3", "3", "", "100", "echo", at(7))
    opened = await store.open_calls()
    assert [(c.id, c.last_node) for c in opened] == [("a", "bye"), ("b", "hello"), ("c", None)]


async def test_close_lost_call_closes_once_and_never_overrides_an_ending(store: CallStore) -> None:
    await store.call_started("a", "main-1.1", "1", "", "7705", "f", at(0))
    await store.offer_started("a", "3108", at(2))
    await store.offer_answered("a", "3108", at(3))
    await store.offer_started("a", "3101", at(2))
    assert await store.close_lost_call("a", at(30), "completed", "Asterisk restarted")
    assert not await store.close_lost_call("a", at(60), "abandoned", "later")
    record = await store.get_call("a")
    assert record is not None
    assert (record["outcome"], record["hangup_cause"]) == ("completed", "Asterisk restarted")
    assert record["ended_at"] == "2025-03-01T09:00:30Z"
    assert sorted((o["agent"], o["outcome"]) for o in record["offers"]) == [
        ("3101", "cancelled"),
        ("3108", "answered"),
    ]


async def test_a_fallback_call_is_imported_once_and_not_over_a_call_the_controller_saw(
    store: CallStore,
) -> None:
    fields = dict(
        caller_number="0312",
        caller_name="Y",
        started_at=at(0),
        answered_at=at(1),
        ended_at=at(5),
        outcome="failed",
        cause="controller away: dialplan fallback",
        dialed="7705",
    )
    assert await store.import_fallback_call(call_id="f1", channel_id="main-2.1", **fields)  # type: ignore[arg-type]
    assert not await store.import_fallback_call(call_id="f1", channel_id="main-2.1", **fields)  # type: ignore[arg-type]
    await store.call_started("seen", "main-2.2", "0312", "", "100", "echo", at(0))
    assert not await store.import_fallback_call(call_id="f2", channel_id="main-2.2", **fields)  # type: ignore[arg-type]
    calls = await store.list_calls()
    assert sorted(c["id"] for c in calls) == ["f1", "seen"]
    imported = await store.get_call("f1")
    assert imported is not None and (imported["outcome"], imported["ended_at"], imported["dialed"]) == (
        "failed",
        "2025-03-01T09:00:05Z",
        "7705",
    )
