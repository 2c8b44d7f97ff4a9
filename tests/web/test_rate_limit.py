from __future__ import annotations

import pytest

from ivr.web.rate_limit import SignInLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_fifth_failure_blocks_until_the_window_passes() -> None:
    clock = Clock()
    limiter = SignInLimiter(max_failures=5, window_s=300, clock=clock)
    for _ in range(5):
        assert limiter.retry_after("1.2.3.4", "bob") is None
        limiter.failed("1.2.3.4", "bob")
        clock.now += 10
    # failures at 1000..1040; now 1050: the first leaves the window at 1300
    assert limiter.retry_after("1.2.3.4", "bob") == 250
    clock.now = 1299.5
    assert limiter.retry_after("1.2.3.4", "bob") == 1
    clock.now = 1300.0
    assert limiter.retry_after("1.2.3.4", "bob") is None
    limiter.failed("1.2.3.4", "bob")  # five again within the window (1010..1300)
    assert limiter.retry_after("1.2.3.4", "bob") == 10


def test_pairs_are_separate_and_names_fold_case() -> None:
    clock = Clock()
    limiter = SignInLimiter(max_failures=2, window_s=60, clock=clock)
    limiter.failed("a", "Bob")
    limiter.failed("a", " bob ")
    assert limiter.retry_after("a", "BOB") == 60
    assert limiter.retry_after("b", "bob") is None
    assert limiter.retry_after("a", "carol") is None


def test_success_clears_the_pair() -> None:
    clock = Clock()
    limiter = SignInLimiter(max_failures=2, window_s=60, clock=clock)
    limiter.failed("a", "bob")
    limiter.succeeded("a", "bob")
    limiter.failed("a", "bob")
    assert limiter.retry_after("a", "bob") is None


def test_memory_is_bounded() -> None:
    clock = Clock()
    limiter = SignInLimiter(max_failures=1, window_s=60, clock=clock, max_keys=3)
    for i in range(10):
        limiter.failed(f"10.0.0.{i}", "x")
    assert len(limiter._failures) == 3
    assert limiter.retry_after("10.0.0.9", "x") == 60
    assert limiter.retry_after("10.0.0.0", "x") is None


def test_bad_parameters() -> None:
    with pytest.raises(ValueError):
        SignInLimiter(max_failures=0)
