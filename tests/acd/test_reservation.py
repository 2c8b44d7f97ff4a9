"""The in-memory reservation port: exactly one holder per agent, even under concurrency."""

from __future__ import annotations

import asyncio

from acd.reservation import AgentReservations, InMemoryReservations


async def test_two_concurrent_reservations_exactly_one_wins() -> None:
    res: AgentReservations = InMemoryReservations()
    results = await asyncio.gather(res.try_reserve("2101", "c1-o1"), res.try_reserve("2101", "c2-o1"))
    assert sorted(results) == [False, True]
    winner = "c1-o1" if results[0] else "c2-o1"
    assert await res.holder("2101") == winner


async def test_many_concurrent_offers_for_many_agents() -> None:
    res = InMemoryReservations()
    tries = [(f"a{i % 10}", f"o{i}") for i in range(100)]
    results = await asyncio.gather(*(res.try_reserve(a, o) for a, o in tries))
    won = [t for t, ok in zip(tries, results, strict=True) if ok]
    assert sorted(a for a, _ in won) == [f"a{i}" for i in range(10)]


async def test_release_only_by_the_holder_and_reserve_again() -> None:
    res = InMemoryReservations()
    assert await res.try_reserve("2101", "o1")
    assert await res.try_reserve("2101", "o1")  # the holder asking again still holds it
    await res.release("2101", "o2")
    assert await res.holder("2101") == "o1"
    await res.release("2101", "o1")
    assert await res.holder("2101") is None
    assert await res.try_reserve("2101", "o2")
    await res.release("2102", "o9")  # never held: no-op
    assert await res.holder("2102") is None
