"""A private PostgreSQL cluster for tests and benches: ``ivr.cluster.postgres`` (where ``ivr cluster up``
finds it too), re-exported under its old name."""

from __future__ import annotations

from ivr.cluster.postgres import (
    PG_BIN_DIRS,
    ROLE,
    PostgresCluster,
    PostgresUnavailable,
    free_port,
    pg_bin_dir,
)

__all__ = ["PG_BIN_DIRS", "ROLE", "PostgresCluster", "PostgresUnavailable", "free_port", "pg_bin_dir"]
