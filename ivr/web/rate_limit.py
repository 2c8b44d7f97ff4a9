"""Failed sign-ins per (client address, user name): after ``max_failures`` within ``window_s`` the pair
must wait until the oldest failure leaves the window. Pure: the clock is given; memory is bounded."""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class SignInLimiter:
    def __init__(
        self,
        *,
        max_failures: int = 5,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if max_failures < 1 or window_s <= 0 or max_keys < 1:
            raise ValueError("max_failures, window_s and max_keys must be positive")
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()

    @staticmethod
    def _key(client: str, user: str) -> tuple[str, str]:
        return (client, user.strip().lower())

    def _recent(self, key: tuple[str, str], now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def retry_after(self, client: str, user: str) -> int | None:
        """Whole seconds to wait before trying again, or ``None`` when a try is allowed now."""
        now = self._clock()
        times = self._recent(self._key(client, user), now)
        if times is None or len(times) < self.max_failures:
            return None
        return max(1, math.ceil(times[-self.max_failures] + self.window_s - now))

    def failed(self, client: str, user: str) -> None:
        now = self._clock()
        key = self._key(client, user)
        times = self._recent(key, now)
        if times is None:
            times = self._failures[key] = deque(maxlen=self.max_failures)
        times.append(now)
        self._failures.move_to_end(key)
        while len(self._failures) > self._max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, client: str, user: str) -> None:
        self._failures.pop(self._key(client, user), None)
