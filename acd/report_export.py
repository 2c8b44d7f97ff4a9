"""The calls of a report period as CSV: one line per call, safe to open in a spreadsheet.

Pure: store rows in, text out. Columns: ``id, started_at, caller_number, queue, agent, waited_s,
rings, outcome, csat``. ``caller_number`` is the number as ``/api/calls`` shows it. ``waited_s`` is the
time in queue (entry → agent answer, or → hang-up of an abandon; empty otherwise), ``rings`` the rings
of the answered offer. A cell that a spreadsheet would run as a formula (starting with ``= + - @``,
tab or carriage return) gets a leading ``'``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from acd.metrics import (
    CallFact,
    abandon_wait_s,
    answer_wait_s,
    answered_offer,
    iso_utc,
    ring_to_answer_s,
)
from acd.report_charts import matches
from acd.report_source import fact_from_row
from ivr.store.report_rows import ReportRow

COLUMNS = ("id", "started_at", "caller_number", "queue", "agent", "waited_s", "rings", "outcome", "csat")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell as text; one a spreadsheet would evaluate is prefixed with ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _waited_s(fact: CallFact) -> float | None:
    wait = answer_wait_s(fact)
    return wait if wait is not None else abandon_wait_s(fact)


def _rings(fact: CallFact, ring_cycle_s: float) -> float | None:
    offer = answered_offer(fact)
    seconds = None if offer is None else ring_to_answer_s(offer)
    return None if seconds is None else round(seconds / ring_cycle_s, 2)


def export_lines(
    rows: Iterable[ReportRow],
    *,
    ring_cycle_s: float,
    since: datetime | None = None,
    until: datetime | None = None,
    queue: str | None = None,
    agent: str | None = None,
) -> list[list[str]]:
    """The header and one line per call (oldest first) that arrived in [since, until), of ``queue``
    and touching ``agent`` when given (the same selection as the charts)."""
    lines = [list(COLUMNS)]
    for row in rows:
        fact = fact_from_row(row)
        if not matches(fact, since=since, until=until, queue=queue, agent=agent):
            continue
        waited = _waited_s(fact)
        values: Sequence[object] = (
            row.id,
            iso_utc(row.started_at),
            row.caller_number,
            row.queue,
            fact.agent,
            None if waited is None else round(waited, 1),
            _rings(fact, ring_cycle_s),
            row.outcome,
            row.survey_score,
        )
        lines.append([safe_cell(v) for v in values])
    return lines


def to_csv(lines: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(lines)
    return out.getvalue()
