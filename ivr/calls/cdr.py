"""Asterisk's own call records (cdr_csv ``Master.csv``), parsed. Pure: bytes in, rows and problems out.

The file is read incrementally (``cdr_file.CdrTail``): only complete lines are parsed and the number of
bytes consumed is returned, so a row Asterisk is still writing is read next time. A hostile or broken
row (wrong column count, bad date, no uniqueid) is skipped and reported; bytes that are not UTF-8 are
replaced. Columns (``asterisk_conf/cdr.conf``: ``loguniqueid`` and ``loguserfield`` on, GMT times)::

    accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,end,duration,
    billsec,disposition,amaflags,uniqueid,userfield

A call that took the dialplan fallback while no controller ran (``[controller-away]``) becomes a
``FallbackCall``: what the store records for it.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from ivr.calls.callerid import caller_name, caller_number

COLUMNS = (
    "accountcode",
    "src",
    "dst",
    "dcontext",
    "clid",
    "channel",
    "dstchannel",
    "lastapp",
    "lastdata",
    "start",
    "answer",
    "end",
    "duration",
    "billsec",
    "disposition",
    "amaflags",
    "uniqueid",
    "userfield",
)
FALLBACK_CONTEXT = "controller-away"
FALLBACK_CAUSE = "controller away: dialplan fallback"
MAX_ID = 128
_CLID = re.compile(r'^\s*"(?P<name>.*)"\s*<(?P<number>[^>]*)>\s*$', re.DOTALL)
_NAMESPACE = uuid.UUID("6f1d3c52-6a0e-4d0b-9a51-2f6f3b7c9e10")


@dataclass(frozen=True)
class CdrRow:
    uniqueid: str
    src: str
    clid: str
    dst: str
    dcontext: str
    channel: str
    start: datetime
    answer: datetime | None
    end: datetime
    disposition: str
    userfield: str = ""


@dataclass(frozen=True)
class CdrChunk:
    rows: list[CdrRow]
    consumed: int
    """Bytes of complete lines parsed; the rest (a line still being written) is read next time."""
    problems: list[str]


@dataclass(frozen=True)
class FallbackCall:
    """A call Asterisk answered with the apology because no controller was there."""

    call_id: str
    channel_id: str
    caller_number: str
    caller_name: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    dialed: str = ""
    """The number the caller dialed: the dialplan keeps it in the CDR's userfield before the fallback
    (``dst`` is then ``s``)."""
    outcome: str = "failed"
    cause: str = FALLBACK_CAUSE


def parse_cdr(data: bytes, *, first_line: int = 1) -> CdrChunk:
    """Rows of the complete lines in ``data``; ``first_line`` numbers the problems."""
    end = data.rfind(b"\n")
    if end < 0:
        return CdrChunk([], 0, [])
    text = data[: end + 1].decode("utf-8", errors="replace").replace("\x00", "")
    rows: list[CdrRow] = []
    problems: list[str] = []
    reader = csv.reader(io.StringIO(text, newline=""), strict=False)
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(f"line {first_line + reader.line_num - 1}: unreadable ({exc})")
            continue
        if not fields:
            continue
        line = first_line + reader.line_num - 1
        row, problem = _row(fields)
        if row is not None:
            rows.append(row)
        else:
            problems.append(f"line {line}: {problem}")
    return CdrChunk(rows, end + 1, problems)


def _row(fields: list[str]) -> tuple[CdrRow | None, str]:
    if len(fields) not in (len(COLUMNS), len(COLUMNS) - 1):  # userfield is optional
        return None, f"{len(fields)} columns, expected {len(COLUMNS)}"
    f = dict(zip(COLUMNS, fields, strict=False))
    uniqueid = f["uniqueid"].strip()
    if not uniqueid or len(uniqueid) > MAX_ID or not uniqueid.isprintable():
        return None, "no usable uniqueid"
    start, answer, end = _time(f["start"]), _time(f["answer"]), _time(f["end"])
    if start is None or end is None:
        return None, f"bad start or end time ({f['start'][:32]!r}, {f['end'][:32]!r})"
    return (
        CdrRow(
            uniqueid=uniqueid,
            src=f["src"],
            clid=f["clid"],
            dst=f["dst"],
            dcontext=f["dcontext"],
            channel=f["channel"][:MAX_ID],
            start=start,
            answer=answer,
            end=max(end, start),
            disposition=f["disposition"][:32],
            userfield=f.get("userfield", "")[:MAX_ID],
        ),
        "",
    )


def _time(text: str) -> datetime | None:
    """``2024-05-01 12:00:00`` (GMT) → aware UTC; empty or malformed → None."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def fallback_call_id(uniqueid: str) -> str:
    """The record id of a fallback call: the same for the same channel, so it is imported once."""
    return uuid.uuid5(_NAMESPACE, uniqueid).hex


def fallback_call(row: CdrRow) -> FallbackCall | None:
    """The record for a row of a call that took ``[controller-away]``; None for any other row."""
    if row.dcontext != FALLBACK_CONTEXT:
        return None
    match = _CLID.match(row.clid)
    name = match.group("name") if match else ""
    number = row.src or (match.group("number") if match else "")
    return FallbackCall(
        call_id=fallback_call_id(row.uniqueid),
        channel_id=row.uniqueid,
        caller_number=caller_number(number),
        caller_name=caller_name(name),
        started_at=row.start,
        answered_at=row.answer,
        ended_at=row.end,
        dialed=_dialed(row),
    )


def _dialed(row: CdrRow) -> str:
    """The dialed number from the userfield the fallback path sets; an older row without it falls back
    to ``dst`` unless that is only the fallback's own ``s``."""
    for candidate in (row.userfield.strip(), row.dst.strip()):
        if candidate and candidate != "s" and candidate.isprintable():
            return candidate
    return ""


def end_times(rows: list[CdrRow]) -> dict[str, datetime]:
    """uniqueid → when its channel ended (the latest row: a channel may have several)."""
    ends: dict[str, datetime] = {}
    for row in rows:
        if row.uniqueid not in ends or row.end > ends[row.uniqueid]:
            ends[row.uniqueid] = row.end
    return ends
