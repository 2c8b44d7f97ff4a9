"""Rows → the ``/api/calls`` JSON shape (the contract in DESIGN.md "Contracts others rely on")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ivr.store.models import CallRow, InputRow, OfferRow, PathRow, SurveyRow
from ivr.store.timeutil import iso_utc


def ring_to_answer_s(offers: Sequence[OfferRow]) -> float | None:
    """Seconds from the answered offer's Ringing to its Up; None when no offer was answered."""
    for offer in offers:
        if offer.answered_at is not None:
            return round((offer.answered_at - offer.ring_started_at).total_seconds(), 3)
    return None


def offer_ring_s(offer: OfferRow) -> float | None:
    """Seconds the agent's phone rang for this offer: Ringing → answer, else → end; None while ringing."""
    stop = offer.answered_at if offer.answered_at is not None else offer.ended_at
    return None if stop is None else round((stop - offer.ring_started_at).total_seconds(), 3)


def _rings(seconds: float | None, ring_cycle_s: float) -> float | None:
    return None if seconds is None else round(seconds / ring_cycle_s, 2)


def call_dict(
    call: CallRow,
    path: Sequence[PathRow],
    inputs: Sequence[InputRow],
    offers: Sequence[OfferRow],
    ring_cycle_s: float,
    surveys: Sequence[SurveyRow] = (),
) -> dict[str, Any]:
    r2a = ring_to_answer_s(offers)
    return {
        "id": call.id,
        "channel_id": call.channel_id,
        "caller": {"number": call.caller_number, "name": call.caller_name},
        "dialed": call.dialed,
        "flow": call.flow,
        "started_at": iso_utc(call.started_at),
        "answered_at": iso_utc(call.answered_at),
        "ended_at": iso_utc(call.ended_at),
        "path": [p.node_id for p in path],
        "steps": [{"node": p.node_id, "at": iso_utc(p.at)} for p in path],
        "inputs": [
            {
                "kind": i.kind,
                "value": i.value,
                "node": i.node_id,
                "sensitive": i.sensitive,
                "at": iso_utc(i.at),
            }
            for i in inputs
        ],
        "queue": call.queue,
        "queued_at": iso_utc(call.queued_at),
        "agent": call.agent,
        "offers": [
            {
                "agent": o.agent,
                "ring_started_at": iso_utc(o.ring_started_at),
                "answered_at": iso_utc(o.answered_at),
                "ended_at": iso_utc(o.ended_at),
                "outcome": o.outcome,
                "ring_s": offer_ring_s(o),
                "rings": _rings(offer_ring_s(o), ring_cycle_s),
            }
            for o in offers
        ],
        "ring_to_answer_s": r2a,
        "rings": _rings(r2a, ring_cycle_s),
        "outcome": call.outcome,
        "hangup_cause": call.hangup_cause,
        "surveys": [{"question": s.question, "score": s.score, "at": iso_utc(s.at)} for s in surveys],
        "csat": surveys[0].score if surveys else None,
    }
