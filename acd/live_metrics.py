"""Today's figures for ``GET /metrics``: calls by outcome, ring-to-answer samples, service level per queue.

``today_figures`` is pure (store rows → figures, with the report's definitions: docs/metrics.md);
``read_today`` is the one read behind it. The web layer caches the result for a few seconds, so a burst
of scrapes costs one store query. Nothing here runs the staffing simulation of the full report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from acd.metrics import (
    ServiceStandard,
    answered_offer,
    as_utc,
    by_queue,
    group_figures,
    is_answered,
    ring_to_answer_s,
)
from acd.report_source import facts_from_rows
from ivr.store.report_rows import ReportRow

IN_PROGRESS = "in_progress"
"""Outcome label of a call that has not ended."""
UNKNOWN = "unknown"
"""Outcome label of an ended call without a recorded outcome."""


class TodayStore(Protocol):
    async def report_rows(self, since: datetime | None, until: datetime | None) -> list[ReportRow]: ...


@dataclass(frozen=True)
class QueueToday:
    share_within_target: float | None
    """Answered calls whose answered offer rang within the target rings ÷ answered calls with one."""
    sl: float | None
    """Answered within target (queue wait) ÷ answered."""
    answered: int
    offered: int


@dataclass(frozen=True)
class TodayFigures:
    outcomes: Mapping[str, int]
    """Calls that arrived today by outcome (``in_progress`` while not ended)."""
    ring_to_answer_s: tuple[float, ...]
    """Ringing → Up of the answered offer of each answered call."""
    queues: Mapping[str, QueueToday]


def today_figures(rows: Iterable[ReportRow], standard: ServiceStandard) -> TodayFigures:
    facts = facts_from_rows(rows)
    outcomes: dict[str, int] = {}
    for fact in facts:
        label = IN_PROGRESS if fact.ended_at is None else (fact.outcome or UNKNOWN)
        outcomes[label] = outcomes.get(label, 0) + 1
    samples: list[float] = []
    for fact in facts:
        offer = answered_offer(fact) if is_answered(fact) else None
        seconds = ring_to_answer_s(offer) if offer is not None else None
        if seconds is not None:
            samples.append(seconds)
    queues = {}
    for name, calls in by_queue(facts).items():
        figures = group_figures(calls, standard)
        queues[name] = QueueToday(figures.share_within_target, figures.sl, figures.answered, figures.offered)
    return TodayFigures(outcomes=outcomes, ring_to_answer_s=tuple(samples), queues=queues)


async def read_today(store: TodayStore, standard: ServiceStandard, now: datetime) -> TodayFigures:
    """The figures over calls that arrived since UTC midnight of ``now``."""
    midnight = as_utc(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return today_figures(await store.report_rows(midnight, None), standard)
