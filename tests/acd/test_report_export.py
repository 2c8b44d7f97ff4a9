"""The period's calls as CSV: columns, selection, and cells a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from acd.report_export import COLUMNS, export_lines, safe_cell, to_csv
from ivr.store.report_rows import ReportOffer, ReportRow
from tests.acd.builders import report_row

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def row(call_id: str, **kw: Any) -> ReportRow:
    kw.setdefault("caller_number", "0312345678")
    return report_row(call_id, clock=at, **kw)


ROWS = [
    row(
        "answered",
        agent="2102",
        offers=(
            ReportOffer("2101", at(11), None, at(20), "no_answer"),
            ReportOffer("2102", at(21), at(25.5), at(200), "answered"),
        ),
        survey_score=4,
    ),
    row("abandoned", started_at=at(60), queued_at=at(65), ended_at=at(95), outcome="abandoned"),
    row("ivr-only", started_at=at(120), queue=None, queued_at=None, caller_number=None),
    row("later", started_at=at(4000), queue="returns"),
]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+81312345678", "'+81312345678"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("0312", "0312"),
        (None, ""),
        (4, "4"),
    ],
)
def test_safe_cell(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_columns_and_values() -> None:
    header, answered, abandoned, ivr_only, later = export_lines(ROWS, ring_cycle_s=3.0)
    assert tuple(header) == COLUMNS
    assert answered == [
        "answered",
        "2026-12-01T09:00:00Z",
        "0312345678",
        "orders",
        "2102",
        "15.5",  # queued 10 s → answered 25.5 s
        "1.5",  # rang 4.5 s at 3 s a ring
        "completed",
        "4",
    ]
    assert abandoned[5:8] == ["30.0", "", "abandoned"]
    assert ivr_only[2:7] == ["", "", "", "", ""]
    assert later[0] == "later"


def test_selection_is_the_charts_one() -> None:

    def ids(lines: list[list[str]]) -> list[str]:
        return [line[0] for line in lines[1:]]

    assert ids(export_lines(ROWS, ring_cycle_s=3.0, since=at(30), until=at(3600))) == [
        "abandoned",
        "ivr-only",
    ]
    assert ids(export_lines(ROWS, ring_cycle_s=3.0, queue="returns")) == ["later"]
    assert ids(export_lines(ROWS, ring_cycle_s=3.0, agent="2101")) == ["answered"]  # rung, not answered


def test_csv_round_trips_hostile_text() -> None:
    hostile = row("x", caller_number='=HYPERLINK("http://x","a,b")', outcome='say "hi"\nbye')
    text = to_csv(export_lines([hostile], ring_cycle_s=3.0))
    assert text.endswith("\r\n")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1][2] == '\'=HYPERLINK("http://x","a,b")'
    assert parsed[1][7] == 'say "hi"\nbye'
