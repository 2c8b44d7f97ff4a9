"""Today's figures for ``/metrics``: outcomes, ring-to-answer samples and service level from store rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from acd.live_metrics import IN_PROGRESS, UNKNOWN, read_today, today_figures
from acd.metrics import ServiceStandard
from ivr.store.report_rows import ReportOffer, ReportRow
from tests.acd.builders import T0, at, report_row

STANDARD = ServiceStandard(ring_cycle_s=3.0, target_rings=3)


def row(call_id: str, **kw: Any) -> ReportRow:
    return report_row(call_id, **kw)


def answered(call_id: str, ring_s: float, *, queue: str = "orders", wait_s: float = 5.0) -> ReportRow:
    ring_at = 10 + wait_s - ring_s
    offer = ReportOffer("2101", at(ring_at), at(10 + wait_s), at(200), "answered")
    return row(call_id, queue=queue, offers=(offer,))


def test_outcomes_count_calls_by_outcome_with_open_calls_in_progress() -> None:
    rows = [
        answered("a", 2.0),
        row("b", outcome="abandoned"),
        row("c", outcome="abandoned"),
        row("d", ended_at=None, outcome=None),
        row("e", outcome=None),
        row("f", outcome="completed", callback_status="pending"),
    ]
    figures = today_figures(rows, STANDARD)
    assert figures.outcomes == {"completed": 1, "abandoned": 2, IN_PROGRESS: 1, UNKNOWN: 1, "callback": 1}


def test_ring_samples_are_the_answered_offers_ring_to_answer() -> None:
    no_answer = ReportOffer("2102", at(11), None, at(26), "no_answer")
    late = ReportOffer("2101", at(27), at(31.5), at(200), "answered")
    rows = [answered("a", 2.0), row("b", offers=(no_answer, late)), row("c", outcome="abandoned")]
    assert sorted(today_figures(rows, STANDARD).ring_to_answer_s) == [2.0, 4.5]


def test_queue_figures_follow_the_report_definitions() -> None:
    rows = [
        answered("a", 2.0, wait_s=5.0),
        answered("b", 12.0, wait_s=20.0),
        answered("c", 1.0, queue="returns", wait_s=3.0),
        row("d", queue=None, queued_at=None),
    ]
    queues = today_figures(rows, STANDARD).queues
    assert set(queues) == {"orders", "returns"}
    assert queues["orders"].share_within_target == 0.5  # 2 s within 9 s, 12 s not
    assert queues["orders"].sl == 0.5  # waited 5 s and 20 s against 9 s
    assert (queues["orders"].answered, queues["orders"].offered) == (2, 2)
    assert queues["returns"].share_within_target == 1.0


def test_no_answered_calls_gives_no_share() -> None:
    queues = today_figures([row("a", outcome="abandoned")], STANDARD).queues
    assert queues["orders"].share_within_target is None
    assert queues["orders"].sl is None


class FakeStore:
    def __init__(self) -> None:
        self.asked: list[tuple[datetime | None, datetime | None]] = []

    async def report_rows(self, since: datetime | None, until: datetime | None) -> list[ReportRow]:
        self.asked.append((since, until))
        return [answered("a", 2.0)]


async def test_read_today_asks_from_utc_midnight_open_ended() -> None:
    store = FakeStore()
    now = T0.replace(hour=15, minute=42)
    figures = await read_today(store, STANDARD, now)
    assert store.asked == [(now.replace(hour=0, minute=0, second=0, microsecond=0), None)]
    assert figures.outcomes == {"completed": 1}
