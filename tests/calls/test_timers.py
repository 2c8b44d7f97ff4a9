import asyncio

from ivr.calls.timers import CallTimers


async def test_timer_fires_once_and_restart_replaces() -> None:
    fired: list[str] = []
    timers = CallTimers(fired.append)
    timers.start("a", 0.05)
    timers.start("a", 0.01)  # replaces the first
    timers.start("b", 0.02)
    timers.cancel("b")
    await asyncio.sleep(0.1)
    assert fired == ["a"]
    assert len(timers) == 0


async def test_cancel_all() -> None:
    fired: list[str] = []
    timers = CallTimers(fired.append)
    timers.start("x", 0.01)
    timers.start("y", 0.01)
    timers.cancel_all()
    await asyncio.sleep(0.05)
    assert fired == []
