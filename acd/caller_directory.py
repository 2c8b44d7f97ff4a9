"""The callers the ACD holds (waiting or talking): how to reach each one's flow, and what the
operator's screen shows about them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ivr.calls.ports import QueueRequest
from ivr.flows.events import Event


@dataclass
class Caller:
    request: QueueRequest
    post: Callable[[Event], None]
    queue: str
    agent: str | None = None

    @property
    def channel_id(self) -> str:
        return self.request.channel_id

    def caller_id(self) -> str | None:
        """What the operator's phone displays: ``"Name" <number>`` with only safe characters."""
        number = "".join(ch for ch in self.request.caller_number if ch.isalnum() or ch in "+*#")[:32]
        name = "".join(ch for ch in self.request.caller_name if ch.isprintable() and ch not in '"<>\\')[:40]
        if not number and not name:
            return None
        return f'"{name}" <{number}>' if name else number


class CallerDirectory:
    def __init__(self) -> None:
        self._callers: dict[str, Caller] = {}

    def add(self, caller: Caller) -> None:
        self._callers[caller.request.call_id] = caller

    def get(self, call_id: str) -> Caller | None:
        return self._callers.get(call_id)

    def pop(self, call_id: str) -> Caller | None:
        return self._callers.pop(call_id, None)

    def for_agent(self, agent_id: str) -> Caller | None:
        for caller in self._callers.values():
            if caller.agent == agent_id:
                return caller
        return None

    def __len__(self) -> int:
        return len(self._callers)
