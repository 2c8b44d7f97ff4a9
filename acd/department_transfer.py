"""Escalation of a caller to a department's phone (e.g. the warehouse, an extension, not a queue).

The operator's leg has already been released (they go to wrap-up); the caller hears hold music while the
department's phone rings, and is bridged with it on answer. Each department leg is recorded as an offer
on the call (agent = the department's name), so the call record shows every leg. When the department
hangs up, the caller's flow continues after the conversation (``QueueDone(answered)``); if nobody
answers, the flow takes its no-agents path (``QueueDone(transfer_failed)``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from acd.caller_directory import CallerDirectory
from ivr.ari.errors import AriError
from ivr.ari.events import AriEvent, ChannelDestroyed, Dial, StasisStart, channel_id_of
from ivr.calls.legs import LEG_ARG_PREFIX, LEG_ID_PREFIX, LegRegistry
from ivr.calls.ports import AriPort
from ivr.flows import events as fe

log = logging.getLogger(__name__)

RING_TIMEOUT_S = 30


@dataclass
class _DeptLeg:
    channel_id: str
    call_id: str
    caller_channel: str
    department: str
    bridge_id: str
    rang: bool = False
    answered: bool = False


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
        self._by_channel: dict[str, _DeptLeg] = {}
        self._count = 0

    def owns(self, channel_id: str | None) -> bool:
        return channel_id in self._by_channel

    async def start(self, call_id: str, department: str, extension: str) -> None:
        caller = self._callers.get(call_id)
        if caller is None:
            return
        self._count += 1
        channel_id = f"{LEG_ID_PREFIX}{call_id}-dept{self._count}"
        leg = _DeptLeg(channel_id, call_id, caller.channel_id, department, f"{LEG_ID_PREFIX}{call_id}-bridge")
        self._by_channel[channel_id] = leg
        self._legs.claim(channel_id, self._leg_owner)
        with contextlib.suppress(AriError):
            await self._ari.channels.start_moh(caller.channel_id)
        try:
            await self._ari.channels.originate(
                f"PJSIP/{extension}",
                app=self._ari.app,
                app_args=f"{LEG_ARG_PREFIX}department:{call_id}",
                channel_id=channel_id,
                caller_id=caller.caller_id(),
                timeout=RING_TIMEOUT_S,
            )
        except AriError as exc:
            log.info("call %s: department %s (%s) could not ring: %s", call_id, department, extension, exc)
            await self._failed(leg, _now(), "failed:unreachable")

    async def on_leg_event(self, event: AriEvent) -> None:
        leg = self._by_channel.get(channel_id_of(event) or "")
        if leg is None:
            return
        at = event.timestamp or _now()
        if isinstance(event, Dial) and event.dialstatus == "RINGING" and not leg.rang:
            leg.rang = True
            self._submit(lambda store: store.offer_started(leg.call_id, leg.department, at))
        elif isinstance(event, StasisStart):
            await self._answered(leg, at)
        elif isinstance(event, ChannelDestroyed):
            await self._ended(leg, at)

    async def _answered(self, leg: _DeptLeg, at: datetime) -> None:
        leg.answered = True
        if not leg.rang:
            self._submit(lambda store: store.offer_started(leg.call_id, leg.department, at))
        self._submit(lambda store: store.offer_answered(leg.call_id, leg.department, at))
        try:
            with contextlib.suppress(AriError):
                await self._ari.channels.stop_moh(leg.caller_channel)
            await self._ari.bridges.create(bridge_type="mixing", bridge_id=leg.bridge_id)
            await self._ari.bridges.add_channel(leg.bridge_id, [leg.caller_channel, leg.channel_id])
        except AriError as exc:
            log.warning("call %s: department %s could not be bridged: %s", leg.call_id, leg.department, exc)
            with contextlib.suppress(AriError):
                await self._ari.channels.hangup(leg.channel_id)

    async def _ended(self, leg: _DeptLeg, at: datetime) -> None:
        self._forget(leg)
        if not leg.answered:
            await self._failed(leg, at, "no_answer")
            return
        with contextlib.suppress(AriError):
            await self._ari.bridges.destroy(leg.bridge_id)
        self._submit(lambda store: store.offer_ended(leg.call_id, leg.department, at, "answered"))
        caller = self._callers.pop(leg.call_id)
        if caller is not None:
            caller.post(fe.QueueDone(caller.queue, "answered", agent=leg.department))

    async def _failed(self, leg: _DeptLeg, at: datetime, outcome: str) -> None:
        self._forget(leg)
        if not leg.rang:
            self._submit(lambda store: store.offer_started(leg.call_id, leg.department, at))
        self._submit(lambda store: store.offer_ended(leg.call_id, leg.department, at, outcome))
        with contextlib.suppress(AriError):
            await self._ari.channels.stop_moh(leg.caller_channel)
        caller = self._callers.pop(leg.call_id)
        if caller is not None:
            caller.post(fe.QueueDone(caller.queue, "transfer_failed"))

    async def caller_left(self, call_id: str) -> None:
        """The caller hung up: the department's leg is hung up (its end is then recorded)."""
        for leg in [d for d in self._by_channel.values() if d.call_id == call_id]:
            with contextlib.suppress(AriError):
                await self._ari.channels.hangup(leg.channel_id)
            if leg.answered:
                with contextlib.suppress(AriError):
                    await self._ari.bridges.destroy(leg.bridge_id)

    def _forget(self, leg: _DeptLeg) -> None:
        self._by_channel.pop(leg.channel_id, None)
        self._legs.release(leg.channel_id)


def _now() -> datetime:
    return datetime.now(UTC)
