import asyncio

from ivr.calls.timers import CallTimers


async def fired_until(fired: list[str], last: str) -> None:
    """Wait (bounded) until the timer ``last`` fired; every earlier timer had its chance by then."""
    async with asyncio.timeout(5):
        while last not in fired:  # noqa: ASYNC110 - polls a list the timers append to
            await asyncio.sleep(0.005)


async def test_timer_fires_once_and_restart_replaces() -> None:
    fired: list[str] = []
    timers = CallTimers(fired.append)
    timers.start("a", 0.05)
    timers.start("a", 0.01)  # replaces the first
    timers.start("b", 0.02)
    timers.cancel("b")
    timers.start("end", 0.1)  # after the replaced "a" (0.05) would have fired
    await fired_until(fired, "end")
    assert fired == ["a", "end"]
    assert len(timers) == 0


async def test_cancel_all() -> None:
    fired: list[str] = []
    timers = CallTimers(fired.append)
    timers.start("x", 0.01)
    timers.start("y", 0.01)
    timers.cancel_all()
    timers.start("end", 0.05)
    await fired_until(fired, "end")
    assert fired == ["end"]
