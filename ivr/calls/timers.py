"""Per-call named timers that post an event into the call's own queue when they fire."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class CallTimers:
    """Named one-shot timers; starting a name again replaces it. Uses ``loop.call_later`` (no tasks)."""

    def __init__(self, fire: Callable[[str], None]) -> None:
        self._fire = fire
        self._handles: dict[str, asyncio.TimerHandle] = {}

    def start(self, name: str, seconds: float) -> None:
        self.cancel(name)
        loop = asyncio.get_running_loop()
        self._handles[name] = loop.call_later(max(0.0, seconds), self._fired, name)

    def cancel(self, name: str) -> None:
        handle = self._handles.pop(name, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()

    def _fired(self, name: str) -> None:
        self._handles.pop(name, None)
        self._fire(name)

    def __len__(self) -> int:
        return len(self._handles)
