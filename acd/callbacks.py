"""A callback's customer leg: after its agent answered, the distributor dials the customer
(``DialCustomer``); this is what follows — connected, or a retry later, or giving up."""

from __future__ import annotations

from datetime import datetime, timedelta

from acd.agent_book import AgentBook
from acd.events import AcdCommand, CallbackAttempt, CallbackGaveUp, CustomerFailed
from acd.queued_calls import CONNECTED, DIALING, WAITING, QueuedCall


def customer_answered(calls: dict[str, QueuedCall], call_id: str, out: list[AcdCommand]) -> None:
    call = calls.get(call_id)
    if call is None or call.phase != DIALING:
        return
    call.phase = CONNECTED
    out.append(CallbackAttempt(call_id, call.attempts, "answered"))


def customer_failed(
    calls: dict[str, QueuedCall],
    agents: AgentBook,
    event: CustomerFailed,
    *,
    retry_after_s: float,
    max_attempts: int,
    now: datetime,
    out: list[AcdCommand],
) -> None:
    """The agent is available at once (no wrap-up); the callback waits ``retry_after_s`` keeping its
    place, or is given up after ``max_attempts``."""
    call = calls.get(event.call_id)
    if call is None or call.phase != DIALING:
        return
    out.append(CallbackAttempt(call.call_id, call.attempts, f"failed:{event.cause}"))
    if call.agent is not None:
        agents.release(call.agent, now, out)
    call.agent = None
    if call.attempts >= max_attempts:
        calls.pop(call.call_id, None)
        out.append(CallbackGaveUp(call.call_id, call.attempts))
        return
    call.phase = WAITING
    call.not_before = now + timedelta(seconds=retry_after_s)
