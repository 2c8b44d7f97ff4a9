"""What ``python -m bench.cluster`` checks after a run, as pure functions over rows read from PostgreSQL
and Asterisk's CDR files: exactly-once offers, dispatch latency, calls per node, CDR = store per node,
and PostgreSQL's write counters.

- An **offer** is one ring of an operator's phone (``offers`` table). A zero-length offer whose outcome
  is "failed:reserved elsewhere" never rang: the node lost the reservation race to another node.
- A **node** is an Asterisk's system name; a call's channel id (= its CDR ``uniqueid``) starts with it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bench.load_plan import Kind, kind_of
from bench.reconcile import CdrLeg, StoreCall

LOST_RACE = "failed:reserved elsewhere"


@dataclass(frozen=True)
class OfferSpan:
    """One offer: epoch seconds; ``end`` None while it is still open."""

    id: int
    call_id: str
    agent: str
    start: float
    end: float | None
    outcome: str | None

    def lost_race(self) -> bool:
        return self.outcome == LOST_RACE and self.end is not None and self.end <= self.start


def rung(offers: Iterable[OfferSpan]) -> list[OfferSpan]:
    """The offers that rang a phone (lost reservation races left out)."""
    return [o for o in offers if not o.lost_race()]


def overlapping_offers(offers: Iterable[OfferSpan]) -> list[tuple[OfferSpan, OfferSpan]]:
    """Pairs (earlier, later) of one agent's rung offers whose times overlap: the later one started before
    the earlier one ended (an offer still open never ends). Touching ends (end == next start) are fine."""
    by_agent: dict[str, list[OfferSpan]] = {}
    for offer in rung(offers):
        by_agent.setdefault(offer.agent, []).append(offer)
    pairs: list[tuple[OfferSpan, OfferSpan]] = []
    for spans in by_agent.values():
        spans.sort(key=lambda o: (o.start, o.id))
        latest: OfferSpan | None = None  # the offer seen so far that ends last
        for offer in spans:
            if latest is not None and offer.start < _end(latest):
                pairs.append((latest, offer))
            if latest is None or _end(offer) > _end(latest):
                latest = offer
    return pairs


def _end(offer: OfferSpan) -> float:
    return math.inf if offer.end is None else offer.end


def describe_overlap(pair: tuple[OfferSpan, OfferSpan]) -> str:
    first, second = pair
    return (
        f"agent {first.agent}: offer {second.id} (call {second.call_id}) rang at {second.start:.3f} "
        f"before offer {first.id} (call {first.call_id}) ended at {_end(first):.3f}"
    )


def dispatch_latencies(queued_at: Mapping[str, float], offers: Iterable[OfferSpan]) -> list[float]:
    """Per queued call: its first rung offer's start minus its queue entry, seconds (calls never offered
    are left out)."""
    first: dict[str, float] = {}
    for offer in rung(offers):
        if offer.call_id in queued_at:
            first[offer.call_id] = min(first.get(offer.call_id, math.inf), offer.start)
    return [start - queued_at[call] for call, start in first.items()]


def node_of(channel_id: str, nodes: Sequence[str]) -> str | None:
    """The node whose system name prefixes ``channel_id`` (``name-…``), or None."""
    return next((n for n in nodes if channel_id.startswith(f"{n}-")), None)


def calls_per_node(calls: Iterable[StoreCall], nodes: Sequence[str]) -> dict[str, int]:
    """Store calls counted by the node their channel was on; unknown channels under ``"?"``."""
    counts = dict.fromkeys(nodes, 0)
    for call in calls:
        node = node_of(call.channel_id, nodes) or "?"
        counts[node] = counts.get(node, 0) + 1
    return counts


def kinds_per_node(
    calls: Iterable[StoreCall], nodes: Sequence[str], kinds: Sequence[Kind]
) -> dict[str, dict[str, int]]:
    """Store calls by node, then by caller kind (``kind_of`` the number; other numbers left out)."""
    out: dict[str, dict[str, int]] = {n: {} for n in nodes}
    for call in calls:
        kind = kind_of(call.caller_number, kinds)
        if kind is not None:
            counts = out.setdefault(node_of(call.channel_id, nodes) or "?", {})
            counts[kind.name] = counts.get(kind.name, 0) + 1
    return out


def node_problems(legs_by_node: Mapping[str, Mapping[str, CdrLeg]], calls: Iterable[StoreCall]) -> list[str]:
    """Each store call's channel must be a caller leg in the CDR of the node its name says, and every
    node's CDR caller legs must be store calls of that node."""
    nodes = list(legs_by_node)
    problems: list[str] = []
    seen: set[str] = set()
    for call in calls:
        seen.add(call.channel_id)
        node = node_of(call.channel_id, nodes)
        if node is None:
            problems.append(f"store {call.id}: channel {call.channel_id} is on no node of this run")
        elif call.channel_id not in legs_by_node[node]:
            problems.append(f"store {call.id}: no caller leg {call.channel_id} in {node}'s CDR")
    for node, legs in legs_by_node.items():
        for uid in legs:
            if uid not in seen:
                problems.append(f"CDR of {node}: caller leg {uid} is not a call in the store")
    return problems


@dataclass(frozen=True)
class PgCounters:
    """One database's row of ``pg_stat_database``: transactions committed and rows written."""

    xact_commit: int
    tup_inserted: int
    tup_updated: int
    tup_deleted: int

    @property
    def rows_written(self) -> int:
        return self.tup_inserted + self.tup_updated + self.tup_deleted

    def minus(self, other: PgCounters) -> PgCounters:
        return PgCounters(
            self.xact_commit - other.xact_commit,
            self.tup_inserted - other.tup_inserted,
            self.tup_updated - other.tup_updated,
            self.tup_deleted - other.tup_deleted,
        )


PG_COUNTERS_SQL = (
    "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = '{db}'"
)


def parse_counters(psql_out: str) -> PgCounters:
    """``psql -At`` output of ``PG_COUNTERS_SQL`` (one ``a|b|c|d`` line)."""
    fields = psql_out.strip().split("|")
    if len(fields) != 4:
        raise ValueError(f"pg_stat_database: unexpected output {psql_out!r}")
    return PgCounters(*(int(f) for f in fields))


@dataclass(frozen=True)
class WritesPerCall:
    commits: float
    rows: float
    idle_commits_per_s: float
    idle_rows_per_s: float


def writes_per_call(
    idle: PgCounters, idle_s: float, during: PgCounters, during_s: float, calls: int, own_reads: int = 0
) -> WritesPerCall:
    """PostgreSQL work per call: the counters' growth while the calls ran, less what the idle cluster
    does in as long (keep-alives, polling) and less the bench's own ``own_reads`` transactions."""
    if calls <= 0 or idle_s <= 0:
        raise ValueError("calls and idle_s must be > 0")
    commits_s, rows_s = idle.xact_commit / idle_s, idle.rows_written / idle_s
    commits = during.xact_commit - own_reads - commits_s * during_s
    rows = during.rows_written - rows_s * during_s
    return WritesPerCall(max(0.0, commits) / calls, max(0.0, rows) / calls, commits_s, rows_s)
