from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ivr.store import CallStore
from ivr.store import report_rows as report_rows_module
from ivr.store.report_rows import ReportOffer

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def _answered_call(store: CallStore, call_id: str, start: float) -> None:
    await store.call_started(call_id, f"ch-{call_id}", "0312345678", None, "0501234", "shop", at(start))
    await store.call_answered(call_id, at(start + 0.5))
    await store.queue_entered(call_id, "orders", at(start + 10))
    await store.offer_started(call_id, "2101", at(start + 11))
    await store.offer_ended(call_id, "2101", at(start + 26), "no_answer")
    await store.offer_started(call_id, "2102", at(start + 27))
    await store.offer_answered(call_id, "2102", at(start + 31))
    await store.survey_answered(call_id, 4, at(start + 200), question="q1")
    await store.survey_answered(call_id, 2, at(start + 205), question="q2")
    await store.offer_ended(call_id, "2102", at(start + 190), "answered")
    await store.call_ended(call_id, at(start + 210), "completed", 16)


async def test_a_call_with_offers_survey_and_no_callback(store: CallStore) -> None:
    await _answered_call(store, "c1", 0)

    [row] = await store.report_rows(T0, T0 + timedelta(hours=1))

    assert (row.id, row.queue, row.agent, row.outcome) == ("c1", "orders", "2102", "completed")
    assert (row.started_at, row.answered_at, row.queued_at, row.ended_at) == (at(0), at(0.5), at(10), at(210))
    assert row.offers == (
        ReportOffer("2101", at(11), None, at(26), "no_answer"),
        ReportOffer("2102", at(27), at(31), at(190), "answered"),
    )
    assert row.survey_score == 4  # the first answer, not the last
    assert row.callback_status is None
    assert not row.has_callback
    assert row.started_at.tzinfo is not None


async def test_callback_request_and_its_newest_status(store: CallStore) -> None:
    await store.call_started("c1", "ch1", "0312345678", None, "0501234", "shop", at(0))
    await store.queue_entered("c1", "orders", at(5))
    first = await store.callback_requested("c1", "0312345678", None, None, at(30))
    await store.set_callback_status(first, "cancelled")
    await store.callback_requested("c1", "0312345678", "after 5pm", None, at(40))
    await store.call_ended("c1", at(45), "callback", None)
    await store.call_started("c2", "ch2", "0399999999", None, "0501234", "shop", at(60))
    await store.callback_requested("c2", "0399999999", None, None, at(70))
    await store.set_callbacks_of_call("c2", "done")

    rows = {r.id: r for r in await store.report_rows(None, None)}

    assert rows["c1"].callback_status == "pending"
    assert rows["c1"].has_callback
    assert rows["c1"].offers == ()
    assert rows["c1"].survey_score is None
    assert rows["c2"].callback_status == "done"


async def test_window_is_half_open_on_call_start_and_ordered(store: CallStore) -> None:
    for call_id, start in (("late", 3600), ("before", -1), ("first", 0), ("mid", 1800)):
        await store.call_started(call_id, None, None, None, None, "shop", at(start))

    rows = await store.report_rows(T0, T0 + timedelta(hours=1))
    assert [r.id for r in rows] == ["first", "mid"]
    assert [r.id for r in await store.report_rows(None, T0)] == ["before"]
    assert [r.id for r in await store.report_rows(T0 + timedelta(minutes=30), None)] == ["mid", "late"]


async def test_many_calls_are_read_in_chunks(store: CallStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(report_rows_module, "ID_CHUNK", 3)
    for i in range(8):
        await _answered_call(store, f"c{i}", i * 300)

    rows = await store.report_rows(None, None)

    assert [r.id for r in rows] == [f"c{i}" for i in range(8)]
    assert all(len(r.offers) == 2 and r.survey_score == 4 for r in rows)
    assert rows[7].offers[1].answered_at == at(7 * 300 + 31)


async def test_empty_window(store: CallStore) -> None:
    assert await store.report_rows(T0, T0 + timedelta(hours=1)) == []
