"""Store tests run on each backend: SQLite (a file in ``tmp_path``) and PostgreSQL (a fresh database on the
session's private cluster, see ``tests/postgres_fixtures.py``).

``backend``: ``"sqlite"`` or ``"postgresql"`` (a test bound to one narrows it with
``@pytest.mark.parametrize("backend", ["sqlite"])``); ``db_url``: an empty database of that backend;
``store``: an open ``CallStore`` on a migrated one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from ivr.store import CallStore, default_db_url
from ivr.testing.postgres import PostgresCluster
from tests.postgres_fixtures import fresh_database

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no tables yet) of the test's backend."""
    if backend == "sqlite":
        return default_db_url(tmp_path)
    return str(request.getfixturevalue("pg_url"))


async def _migrate(url: str) -> None:
    store = CallStore(url)
    await store.open()
    await store.close()


@pytest.fixture(scope="session")
def pg_store_template(pg_cluster: PostgresCluster) -> str:
    """A PostgreSQL database migrated once per session: each test's store starts from a copy of it."""
    name = "store_template"
    asyncio.run(_migrate(pg_cluster.create_database(name)))
    return name


@pytest.fixture
def new_store_url(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[str], str]]:
    """For a test that needs several stores: ``new_store_url(name)`` gives the URL of another database
    (SQLite: ``tmp_path/name/ivr.db``; PostgreSQL: a migrated copy, dropped after the test)."""
    if backend == "postgresql":  # resolved here, not in the test's event loop (the template runs its own)
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        template: str = request.getfixturevalue("pg_store_template")
    with contextlib.ExitStack() as databases:

        def make(name: str) -> str:
            if backend == "sqlite":
                return default_db_url(tmp_path / name)
            return databases.enter_context(fresh_database(cluster, template=template))

        yield make


@pytest.fixture
def store_url(new_store_url: Callable[[str], str]) -> str:
    """The database of the ``store`` fixture (SQLite: ``tmp_path/ivr.db``)."""
    return new_store_url("")


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[CallStore]:
    s = CallStore(store_url, busy_timeout_s=0.1)
    await s.open()
    try:
        yield s
    finally:
        await s.close()
