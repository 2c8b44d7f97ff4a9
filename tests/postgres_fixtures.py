"""PostgreSQL fixtures for the whole suite: one private cluster per test session (per xdist worker) and a
fresh database per test.

``pg_cluster``: the session's ``PostgresCluster`` (started on first use, stopped at the end).
``pg_url``: the SQLAlchemy URL (``postgresql+asyncpg://…``) of a new, empty database only this test
uses, dropped after it.
``pg_private_cluster``: a cluster of the test's own, for a test that restarts or stops PostgreSQL
(never do that to the shared one).
Each skips the test, with the reason, when PostgreSQL's server is not installed.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest

from ivr.testing.postgres import PostgresCluster, PostgresUnavailable, pg_bin_dir


@contextlib.contextmanager
def fresh_database(cluster: PostgresCluster, template: str | None = None) -> Iterator[str]:
    """A new database with a unique name (empty, or a copy of ``template``): its URL; dropped after."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = cluster.create_database(name, template=template)
    try:
        yield url
    finally:
        if cluster.running:
            cluster.drop_database(name)


def started_cluster() -> Iterator[PostgresCluster]:
    """A running cluster while the caller holds it; skips when PostgreSQL is not installed."""
    try:
        pg_bin_dir()
    except PostgresUnavailable as exc:
        pytest.skip(f"PostgreSQL not available: {exc}")
    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    yield from started_cluster()


@pytest.fixture
def pg_private_cluster() -> Iterator[PostgresCluster]:
    yield from started_cluster()


@pytest.fixture
def pg_url(pg_cluster: PostgresCluster) -> Iterator[str]:
    with fresh_database(pg_cluster) as url:
        yield url
