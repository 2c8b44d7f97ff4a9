"""Escalation of a caller to a department's phone (e.g. the warehouse, an extension, not a queue).

The operator's leg has already been released (they go to wrap-up); the department's phone is rung with
the same leg a flow's ``transfer`` uses (``ivr.calls.transfer_leg``: hold music while it rings, bridged
on answer). Each department leg is recorded as an offer on the call (agent = the department's name), so
the call record shows every leg. When the department hangs up, the caller's flow continues after the
conversation (``QueueDone(answered)``); if nobody answers, the flow takes its no-agents path
(``QueueDone(transfer_failed)``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from acd.caller_directory import CallerDirectory
from ivr.ari.errors import AriError
from ivr.ari.events import AriEvent, channel_id_of
from ivr.calls.legs import LegRegistry
from ivr.calls.ports import AriPort
from ivr.calls.transfer_leg import TransferLeg
from ivr.flows import events as fe

log = logging.getLogger(__name__)

RING_TIMEOUT_S = 30


class DepartmentTransfers:
    def __init__(
        self,
        *,
        ari: AriPort,
        legs: LegRegistry,
        callers: CallerDirectory,
        submit: Callable[[Any], object],
        leg_owner: Callable[[AriEvent], None],
    ) -> None:
        self._ari = ari
        self._legs = legs
        self._callers = callers
        self._submit = submit
        self._leg_owner = leg_owner
        self._by_channel: dict[str, TransferLeg] = {}
        self._count = 0

    def owns(self, channel_id: str | None) -> bool:
        return channel_id in self._by_channel

    async def start(self, call_id: str, department: str, extension: str) -> None:
        caller = self._callers.get(call_id)
        if caller is None:
            return
        self._count += 1
        offer = _OfferRecord(self._submit, call_id, department)
        leg = TransferLeg(
            ari=self._ari,
            call_id=call_id,
            caller_channel=caller.channel_id,
            target=extension,
            n=self._count,
            post=lambda done: self._ended(leg, department, offer, done),
            kind="department",
            on_ringing=offer.ringing,
            on_answered=offer.answered,
        )
        self._by_channel[leg.leg_id] = leg
        self._legs.claim(leg.leg_id, self._leg_owner)
        await leg.start(RING_TIMEOUT_S, caller_id=caller.caller_id() or "")

    async def on_leg_event(self, event: AriEvent) -> None:
        leg = self._by_channel.get(channel_id_of(event) or "")
        if leg is not None:
            await leg.on_event(event)

    def _ended(self, leg: TransferLeg, department: str, offer: _OfferRecord, done: fe.Event) -> None:
        self._by_channel.pop(leg.leg_id, None)
        self._legs.release(leg.leg_id)
        answered = isinstance(done, fe.TransferDone) and done.outcome == "answered"
        outcome = done.outcome if isinstance(done, fe.TransferDone) else "failed"
        offer.ended("failed:unreachable" if outcome == "failed" else outcome)
        if not answered:
            log.info("call %s: department %s did not take the call (%s)", leg.call_id, department, outcome)
        caller = self._callers.pop(leg.call_id)
        if caller is not None:
            caller.post(
                fe.QueueDone(caller.queue, "answered", agent=department)
                if answered
                else fe.QueueDone(caller.queue, "transfer_failed")
            )

    async def caller_left(self, call_id: str) -> None:
        """The caller hung up: the department's leg is hung up; its end (bridge removed, offer closed)
        follows as for any other end of the leg."""
        for leg in [t for t in self._by_channel.values() if t.call_id == call_id]:
            with contextlib.suppress(AriError):
                await self._ari.channels.hangup(leg.leg_id)


class _OfferRecord:
    """One department leg as an offer row: ring start, answer, end (written behind)."""

    def __init__(self, submit: Callable[[Any], object], call_id: str, department: str) -> None:
        self._submit = submit
        self.call_id = call_id
        self.department = department
        self._started = False

    def ringing(self, at: datetime) -> None:
        if not self._started:
            self._started = True
            self._submit(lambda store: store.offer_started(self.call_id, self.department, at))

    def answered(self, at: datetime) -> None:
        self.ringing(at)
        self._submit(lambda store: store.offer_answered(self.call_id, self.department, at))

    def ended(self, outcome: str) -> None:
        at = datetime.now(UTC)
        self.ringing(at)
        self._submit(lambda store: store.offer_ended(self.call_id, self.department, at, outcome))
