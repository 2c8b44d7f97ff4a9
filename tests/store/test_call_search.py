from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.store import CallStore

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def _call(
    store: CallStore,
    call_id: str,
    start: float,
    number: str | None,
    *,
    flow: str = "shop",
    queue: str | None = None,
    answered_by: str | None = None,
    rung: tuple[str, ...] = (),
    outcome: str = "completed",
) -> None:
    await store.call_started(call_id, f"ch-{call_id}", number, None, "0501234", flow, at(start))
    if queue is not None:
        await store.queue_entered(call_id, queue, at(start + 5))
    for agent in rung:
        await store.offer_started(call_id, agent, at(start + 6))
        await store.offer_ended(call_id, agent, at(start + 20), "no_answer")
    if answered_by is not None:
        await store.offer_started(call_id, answered_by, at(start + 21))
        await store.offer_answered(call_id, answered_by, at(start + 24))
    await store.call_ended(call_id, at(start + 60), outcome, 16)


@pytest.fixture
async def calls(store: CallStore) -> CallStore:
    await _call(store, "a", 0, "0312345678", queue="orders", answered_by="2101")
    await _call(store, "b", 3600, "09011112222", queue="returns", rung=("2101",), outcome="abandoned")
    await _call(store, "c", 7200, "0312349999", flow="after_hours", outcome="voicemail")
    await _call(store, "d", 10800, "+81%_0", queue="orders", answered_by="2102")
    await _call(store, "e", 14400, None)
    return store


async def _ids(store: CallStore, **filters: object) -> list[str]:
    return [c["id"] for c in await store.search_calls(**filters)]  # type: ignore[arg-type]


async def test_no_filter_is_list_calls(calls: CallStore) -> None:
    assert await calls.search_calls() == await calls.list_calls()
    assert await _ids(calls) == ["e", "d", "c", "b", "a"]


async def test_number_is_a_literal_substring(calls: CallStore) -> None:
    assert await _ids(calls, number="031234") == ["c", "a"]
    assert await _ids(calls, number="9999") == ["c"]
    assert await _ids(calls, number="%") == ["d"]  # not a wildcard
    assert await _ids(calls, number="_") == ["d"]
    assert await _ids(calls, number="777") == []


async def test_period_is_started_at_in_since_until(calls: CallStore) -> None:
    assert await _ids(calls, since=at(3600)) == ["e", "d", "c", "b"]
    assert await _ids(calls, until=at(3600)) == ["a"]
    assert await _ids(calls, since=at(3600), until=at(10800)) == ["c", "b"]


async def test_queue_outcome_flow(calls: CallStore) -> None:
    assert await _ids(calls, queue="orders") == ["d", "a"]
    assert await _ids(calls, outcome="abandoned") == ["b"]
    assert await _ids(calls, flow="after_hours") == ["c"]


async def test_agent_answered_or_rung(calls: CallStore) -> None:
    assert await _ids(calls, agent="2101") == ["b", "a"]
    assert await _ids(calls, agent="2102") == ["d"]


async def test_filters_combine_and_limit(calls: CallStore) -> None:
    assert await _ids(calls, queue="orders", agent="2101") == ["a"]
    assert await _ids(calls, queue="orders", number="0312") == ["a"]
    assert await _ids(calls, limit=2) == ["e", "d"]
    with pytest.raises(ValueError):
        await calls.search_calls(limit=0)


async def test_rows_have_the_api_shape_with_steps_offer_rings_and_csat(store: CallStore) -> None:
    await store.call_started("x", "ch-x", "0311", None, "0501", "shop", at(0))
    await store.node_entered("x", "welcome", at(1))
    await store.node_entered("x", "menu", at(4))
    await store.queue_entered("x", "orders", at(5))
    await store.offer_started("x", "2101", at(6))
    await store.offer_ended("x", "2101", at(21), "no_answer")
    await store.offer_started("x", "2102", at(22))
    await store.offer_answered("x", "2102", at(26.5))
    await store.survey_answered("x", 4, at(80), question="q1")
    await store.survey_answered("x", 2, at(85), question="q2")
    await store.call_ended("x", at(90), "completed", 16)

    [call] = await store.search_calls(queue="orders")

    assert call == await store.get_call("x")
    assert call["path"] == ["welcome", "menu"]
    assert call["steps"] == [
        {"node": "welcome", "at": "2026-12-01T09:00:01Z"},
        {"node": "menu", "at": "2026-12-01T09:00:04Z"},
    ]
    assert [(o["agent"], o["ring_s"], o["rings"]) for o in call["offers"]] == [
        ("2101", 15.0, 5.0),
        ("2102", 4.5, 1.5),
    ]
    assert call["rings"] == 1.5
    assert call["csat"] == 4  # the first answer, as the report counts it
    assert [s["score"] for s in call["surveys"]] == [4, 2]
