"""Ring an extension (a department's phone) for a caller, bridge the caller on answer.

Used by a flow's ``transfer`` verb and by the ACD's escalation to a department. The caller hears music
on hold while the extension rings. ``TransferDone`` is posted when the leg ends: ``answered`` after a
conversation, else ``busy`` / ``no_answer`` / ``failed`` (from the leg's hangup cause,
``transfer_outcome``) — so the verb's ``after`` and ``on_failure`` paths are live on real calls exactly
as in ``simulate``. ``on_ringing`` / ``on_answered`` get Asterisk's timestamps (the ACD records the leg).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ivr.ari.errors import AriError
from ivr.ari.events import ChannelDestroyed, StasisStart, channel_id_of
from ivr.calls.legs import LEG_ARG_PREFIX, is_ringing, leg_id
from ivr.calls.ports import AriPort
from ivr.flows.events import Event, TransferDone

log = logging.getLogger(__name__)

LEG_KINDS = {"transfer": "xfer", "department": "dept"}
"""Stasis argument kind → the leg id's infix (``leg-<call>-xfer1``, ``leg-<call>-dept1``)."""

BUSY_CAUSES = frozenset({17})
NO_ANSWER_CAUSES = frozenset({16, 18, 19, 21})  # an unanswered ring that ends "normally" timed out


def transfer_outcome(*, answered: bool, cause: int | None) -> str:
    """What a finished transfer leg means for the flow. Pure."""
    if answered:
        return "answered"
    if cause in BUSY_CAUSES:
        return "busy"
    if cause in NO_ANSWER_CAUSES:
        return "no_answer"
    return "failed"


class TransferLeg:
    def __init__(
        self,
        *,
        ari: AriPort,
        call_id: str,
        caller_channel: str,
        target: str,
        n: int,
        post: Callable[[Event], None],
        kind: str = "transfer",
        on_ringing: Callable[[datetime], None] | None = None,
        on_answered: Callable[[datetime], None] | None = None,
    ) -> None:
        self._ari = ari
        self.call_id = call_id
        self.caller_channel = caller_channel
        self.target = target
        self.kind = kind
        self.leg_id = leg_id(call_id, LEG_KINDS[kind], n)
        self.bridge_id = f"{self.leg_id}-bridge"
        self._post = post
        self._on_ringing = on_ringing
        self._on_answered = on_answered
        self.rang = False
        self.answered = False
        self.done = False
        self._bridged = False

    def owns(self, event: Any) -> bool:
        return bool(channel_id_of(event) == self.leg_id)

    async def start(self, timeout_s: float, *, caller_id: str = "") -> None:
        with contextlib.suppress(AriError):
            await self._ari.channels.start_moh(self.caller_channel)
        try:
            await self._ari.channels.originate(
                f"PJSIP/{self.target}",
                app=self._ari.app,
                app_args=f"{LEG_ARG_PREFIX}{self.kind}:{self.call_id}",
                channel_id=self.leg_id,
                caller_id=caller_id or None,
                timeout=max(1, int(timeout_s)),
            )
        except AriError as exc:
            log.info("call %s: transfer to %s could not ring (%s)", self.call_id, self.target, exc)
            await self._finish(None)

    async def on_event(self, event: Any) -> None:
        if self.done:
            return
        at = event.timestamp or datetime.now(UTC)
        if is_ringing(event) and not self.rang:
            self.rang = True
            if self._on_ringing is not None:
                self._on_ringing(at)
        elif isinstance(event, StasisStart):
            self.answered = True
            if self._on_answered is not None:
                self._on_answered(at)
            try:
                await self._ari.channels.stop_moh(self.caller_channel)
                await self._ari.bridges.create(bridge_type="mixing", bridge_id=self.bridge_id)
                self._bridged = True
                await self._ari.bridges.add_channel(self.bridge_id, [self.caller_channel, self.leg_id])
            except AriError as exc:
                log.warning("call %s: transfer bridge failed (%s)", self.call_id, exc)
                with contextlib.suppress(AriError):
                    await self._ari.channels.hangup(self.leg_id)
        elif isinstance(event, ChannelDestroyed):
            await self._finish(event.cause)

    async def _finish(self, cause: int | None) -> None:
        self.done = True
        if self._bridged:
            # The caller leaves first: a prompt played just after a bridge is destroyed around the caller
            # can be dropped by Asterisk without any event (``acd.dispatcher.Dispatcher._close_bridge``).
            with contextlib.suppress(AriError):
                await self._ari.bridges.remove_channel(self.bridge_id, [self.caller_channel])
            with contextlib.suppress(AriError):
                await self._ari.bridges.destroy(self.bridge_id)
        elif not self.answered:
            with contextlib.suppress(AriError):
                await self._ari.channels.stop_moh(self.caller_channel)
        self._post(TransferDone(self.target, transfer_outcome(answered=self.answered, cause=cause)))

    async def abandon(self) -> None:
        """The caller left: hang the leg up and drop the bridge (nothing is posted)."""
        self.done = True
        with contextlib.suppress(AriError):
            await self._ari.channels.hangup(self.leg_id)
        if self._bridged:
            with contextlib.suppress(AriError):
                await self._ari.bridges.destroy(self.bridge_id)
