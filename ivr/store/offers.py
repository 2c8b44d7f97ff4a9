"""Offers: the ACD ringing an agent for a call, and how each ring ended."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ivr.store.database import Database
from ivr.store.models import OfferRow
from ivr.store.timeutil import to_utc

log = logging.getLogger(__name__)


class Offers(Database):
    async def offer_started(self, call_id: str, agent: str, at: datetime) -> None:
        """The ACD started ringing ``agent`` for this call (agent leg Ringing)."""
        async with self._tx() as session:
            await self._call(session, call_id, at)
            session.add(OfferRow(call_id=call_id, agent=agent, ring_started_at=to_utc(at)))

    async def offer_answered(self, call_id: str, agent: str, at: datetime) -> None:
        """The agent leg went Up: marks the agent's open offer answered and the call's agent."""
        async with self._tx() as session:
            call = await self._call(session, call_id, at)
            offer = await self._open_offer(session, call_id, agent)
            if offer is None:
                offer = OfferRow(call_id=call_id, agent=agent, ring_started_at=to_utc(at))
                session.add(offer)
            offer.answered_at = to_utc(at)
            call.agent = agent

    async def offer_ended(self, call_id: str, agent: str, at: datetime, outcome: str) -> None:
        """Close the agent's open offer with an outcome (answered, rona, rejected, abandoned…)."""
        async with self._tx() as session:
            call = await self._call(session, call_id, at)
            offer = await self._open_offer(session, call_id, agent)
            if offer is None:
                log.warning("offer_ended for call %s agent %s without an open offer", call_id, agent)
                return
            offer.ended_at = to_utc(at)
            offer.outcome = outcome
            if outcome == "answered" and offer.answered_at is None:
                # A kill took the answer's write; the conversation taken back after the restart shows
                # the operator was put through (when they answered is not known: left empty).
                call.agent = agent

    async def close_open_offers(
        self,
        call_id: str,
        at: datetime,
        outcome: str,
        *,
        if_caller_in: Collection[str] | None = None,
        answered_by: str | None = None,
    ) -> None:
        """Close every offer of the call still open (a conversation that ended while no controller ran:
        the answered offer gets its end, whoever the agent was).

        ``if_caller_in`` (a restarted controller's channels): only while the call is open if its caller's
        channel is one of them. A caller gone is closed with its offers by the recovery of records a
        crash left open (``ivr/calls/recovery.py``): its answered offer ends as answered, as the call
        ends as completed with that operator — the conversation's end was the write the kill took.

        ``answered_by``: the operator a restarted controller knows the caller talked with (its bridge);
        their offer counts as answered even if the answer's write was lost (its time stays unknown).
        An answered offer of a call already ended with that operator ends ``answered`` whatever
        ``outcome`` says: the call went on after the conversation; only the offer's end was lost."""
        async with self._tx() as session:
            call = await self._call(session, call_id, at)
            if if_caller_in is not None and call.ended_at is None and call.channel_id not in if_caller_in:
                return
            stmt = select(OfferRow).where(OfferRow.call_id == call_id, OfferRow.ended_at.is_(None))
            for offer in (await session.execute(stmt)).scalars():
                offer.ended_at = to_utc(at)
                talked = offer.answered_at is not None or offer.agent == answered_by
                offer.outcome = outcome if talked else "cancelled"
                if talked and call.ended_at is not None and call.agent == offer.agent:
                    # The call ended after this operator took it: the kill took only the offer's end.
                    offer.outcome = "answered"
                if talked and answered_by is not None:
                    call.agent = answered_by

    @staticmethod
    async def _open_offer(session: AsyncSession, call_id: str, agent: str) -> OfferRow | None:
        stmt = (
            select(OfferRow)
            .where(OfferRow.call_id == call_id, OfferRow.agent == agent, OfferRow.ended_at.is_(None))
            .order_by(OfferRow.id.desc())
            .limit(1)
        )
        return (await session.execute(stmt)).scalar_one_or_none()
