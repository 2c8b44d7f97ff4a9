"""The rows ``python -m bench.cluster`` reads from the cluster's PostgreSQL after a run (through ``psql``),
and the database's write counters. Every query on the run's database is counted (``reads``) so the
bench can take its own transactions out of the commit count."""

from __future__ import annotations

from dataclasses import dataclass

from bench.cluster_checks import PG_COUNTERS_SQL, OfferSpan, PgCounters, parse_counters
from bench.reconcile import StoreCall
from ivr.testing.postgres import PostgresCluster

CALLS_SQL = (
    "SELECT id, coalesce(channel_id, ''), coalesce(caller_number, ''), coalesce(outcome, ''),"
    " ended_at IS NOT NULL, coalesce(extract(epoch FROM queued_at)::text, '') FROM calls"
)
OFFERS_SQL = (
    "SELECT id, call_id, agent, extract(epoch FROM ring_started_at),"
    " coalesce(extract(epoch FROM ended_at)::text, ''), coalesce(outcome, '') FROM offers"
)


def _rows(psql_out: str, width: int) -> list[list[str]]:
    rows = [line.split("|") for line in psql_out.splitlines() if line]
    bad = [r for r in rows if len(r) != width]
    if bad:
        raise ValueError(f"unexpected psql row {bad[0]!r} (want {width} fields)")
    return rows


def parse_calls(psql_out: str) -> tuple[list[StoreCall], dict[str, float]]:
    """``CALLS_SQL`` output: the calls, and the queue entry (epoch s) of those that were queued."""
    calls, queued = [], {}
    for cid, channel, number, outcome, ended, queued_at in _rows(psql_out, 6):
        calls.append(StoreCall(cid, channel, number, outcome or None, ended == "t"))
        if queued_at:
            queued[cid] = float(queued_at)
    return calls, queued


def parse_offers(psql_out: str) -> list[OfferSpan]:
    return [
        OfferSpan(int(oid), call, agent, float(start), float(end) if end else None, outcome or None)
        for oid, call, agent, start, end, outcome in _rows(psql_out, 6)
    ]


@dataclass
class PgStore:
    cluster: PostgresCluster
    database: str
    reads: int = 0

    def _query(self, sql: str) -> str:
        self.reads += 1
        return self.cluster.psql(sql, self.database)

    def calls(self) -> list[StoreCall]:
        return parse_calls(self._query(CALLS_SQL))[0]

    def queued_at(self) -> dict[str, float]:
        return parse_calls(self._query(CALLS_SQL))[1]

    def offers(self) -> list[OfferSpan]:
        return parse_offers(self._query(OFFERS_SQL))

    def rows_by_table(self) -> dict[str, int]:
        """Rows inserted, updated or deleted per table since the database was created."""
        out = self._query("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables")
        return {name: int(n) for name, n in _rows(out, 2)}

    def counters(self) -> PgCounters:
        """``pg_stat_database`` for this database (queried from ``postgres``: not counted in it)."""
        return parse_counters(self.cluster.psql(PG_COUNTERS_SQL.format(db=self.database), "postgres"))
