"""After a load run: SIPp's successful calls = Asterisk's CDR caller legs = calls in the store, outcomes
matching each caller's kind. Pure parsing and comparison; ``bench/load.py`` reads the files.

- SIPp: the last row of each kind's ``-trace_stat`` CSV (``SuccessfulCall(C)``, ``FailedCall(C)``).
- CDR: ``<instance>/log/cdr-csv/Master.csv`` (cdr_csv, no header). Caller legs are the trunk's channels
  (``PJSIP/trunk-…``) in context ``from-trunk``; operator legs and media channels are left out. A
  channel can have several rows (one per bridge it was in): a call is one ``uniqueid``.
- Store: rows of the ``calls`` table (``id``, ``channel_id``, ``caller_number``, ``outcome``, ``ended_at``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bench.load_plan import Kind, kind_of
from ivr.calls.cdr import COLUMNS as CDR_COLUMNS

TRUNK_CHANNEL = "PJSIP/trunk-"
TRUNK_CONTEXT = "from-trunk"


@dataclass(frozen=True)
class SippCount:
    successful: int
    failed: int


def sipp_count(stats_csv: str) -> SippCount:
    """Cumulative successful and failed calls from SIPp's ``-trace_stat`` CSV (``;``-separated)."""
    rows = [r for r in csv.reader(stats_csv.splitlines(), delimiter=";") if r]
    if len(rows) < 2:
        return SippCount(0, 0)
    last = dict(zip(rows[0], rows[-1], strict=False))
    try:
        return SippCount(int(last["SuccessfulCall(C)"]), int(last["FailedCall(C)"]))
    except (KeyError, ValueError):
        return SippCount(0, 0)


@dataclass(frozen=True)
class CdrLeg:
    """One caller channel: its id and number, and the dispositions of its rows."""

    uniqueid: str
    src: str
    dispositions: tuple[str, ...]


def cdr_rows(text: str) -> list[dict[str, str]]:
    """Master.csv rows as dicts (short or malformed lines are skipped)."""
    return [dict(zip(CDR_COLUMNS, r, strict=False)) for r in csv.reader(text.splitlines()) if len(r) >= 17]


def caller_legs(rows: Iterable[Mapping[str, str]]) -> dict[str, CdrLeg]:
    """The trunk callers' channels by uniqueid (their rows merged); other legs are dropped."""
    merged: dict[str, tuple[str, list[str]]] = {}
    for row in rows:
        if not row.get("channel", "").startswith(TRUNK_CHANNEL) or row.get("dcontext") != TRUNK_CONTEXT:
            continue
        _, dispositions = merged.setdefault(row["uniqueid"], (row.get("src", ""), []))
        dispositions.append(row.get("disposition", ""))
    return {uid: CdrLeg(uid, src, tuple(d)) for uid, (src, d) in merged.items()}


@dataclass(frozen=True)
class StoreCall:
    id: str
    channel_id: str
    caller_number: str
    outcome: str | None
    ended: bool


@dataclass
class KindFigures:
    kind: str
    placed: int
    sipp_ok: int = 0
    sipp_failed: int = 0
    cdr: int = 0
    store: int = 0
    outcome_ok: int = 0

    def counts_differ(self) -> bool:
        return not self.sipp_ok == self.cdr == self.store


@dataclass
class Reconciliation:
    by_kind: list[KindFigures]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def reconcile(
    placed: Mapping[str, int],
    sipp: Mapping[str, SippCount],
    legs: Mapping[str, CdrLeg],
    store: Sequence[StoreCall],
    kinds: Sequence[Kind],
) -> Reconciliation:
    """Compare the three counts per kind and the calls one by one (CDR uniqueid = store channel id).

    Only numbers of this mix count (``kind_of``): calls from earlier runs or other tests are ignored.
    Every difference is a line in ``problems`` naming the ids involved.
    """
    by_name = {k.name: k for k in kinds}
    figures = {k.name: KindFigures(k.name, placed.get(k.name, 0)) for k in kinds}
    problems: list[str] = []
    mine_legs = {uid: leg for uid, leg in legs.items() if kind_of(leg.src, kinds) is not None}
    mine_store = [c for c in store if kind_of(c.caller_number, kinds) is not None]
    store_by_channel = {c.channel_id: c for c in mine_store}

    for name, count in sipp.items():
        fig = figures[name]
        fig.sipp_ok, fig.sipp_failed = count.successful, count.failed
        if count.failed or count.successful != fig.placed:
            problems.append(
                f"{name}: SIPp placed {fig.placed}, successful {count.successful}, failed {count.failed}"
            )
    for leg in mine_legs.values():
        kind = kind_of(leg.src, kinds)
        assert kind is not None
        figures[kind.name].cdr += 1
        bad = [d for d in leg.dispositions if d != "ANSWERED"]
        if bad:
            problems.append(f"CDR {leg.uniqueid} ({leg.src}): disposition {', '.join(bad)}")
        if leg.uniqueid not in store_by_channel:
            problems.append(f"CDR {leg.uniqueid} ({leg.src}): no call in the store")
    for call in mine_store:
        kind = kind_of(call.caller_number, kinds)
        assert kind is not None
        fig = figures[kind.name]
        fig.store += 1
        if call.channel_id not in mine_legs:
            problems.append(f"store {call.id} ({call.caller_number}): no CDR caller leg")
        if not call.ended:
            problems.append(f"store {call.id} ({call.caller_number}): still open (no ended_at)")
        if call.outcome == by_name[kind.name].outcome:
            fig.outcome_ok += 1
        else:
            problems.append(
                f"store {call.id} ({call.caller_number}): outcome {call.outcome}, "
                f"expected {by_name[kind.name].outcome} ({kind.name})"
            )
    for fig in figures.values():
        if fig.counts_differ():
            problems.append(
                f"{fig.kind}: SIPp successful {fig.sipp_ok}, CDR caller legs {fig.cdr}, "
                f"store calls {fig.store}"
            )
    return Reconciliation(list(figures.values()), problems)
