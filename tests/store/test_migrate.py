"""The start-up check that skips Alembic when the database is already at the newest revision."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ivr.store.migrate import VERSIONS_DIR, alembic_config, revision_links, script_heads


def test_revision_links_read_plain_literals() -> None:
    assert revision_links('revision = "0002"\ndown_revision: str | None = "0001"\n') == ("0002", ("0001",))
    assert revision_links('revision = "0001"\ndown_revision = None\n') == ("0001", ())
    assert revision_links('revision = "m"\ndown_revision = ("a", "b")\n') == ("m", ("a", "b"))


def test_revision_links_give_up_on_anything_computed() -> None:
    assert revision_links("revision = make_id()\ndown_revision = None\n") is None
    assert revision_links('revision = "x"\ndown_revision = pick("a")\n') is None
    assert revision_links("down_revision = None\n") is None


def test_heads_are_revisions_nobody_revises() -> None:
    one, two = 'revision = "1"\ndown_revision = None\n', 'revision = "2"\ndown_revision = "1"\n'
    assert script_heads([one, two]) == frozenset({"2"})
    branch = 'revision = "2b"\ndown_revision = "1"\n'
    assert script_heads([one, two, branch]) == frozenset({"2", "2b"})
    assert script_heads([one, "revision = f()\n"]) is None


def test_shipped_migrations_have_one_head_the_newest_file() -> None:
    files = sorted(VERSIONS_DIR.glob("[!_]*.py"))
    heads = script_heads([f.read_text() for f in files])
    newest = revision_links(files[-1].read_text())
    assert heads is not None and newest is not None and heads == {newest[0]}


async def _read_version(db_url: str) -> list[str]:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return [str(v) for v in rows.scalars()]
    finally:
        await engine.dispose()


def _version(db_url: str) -> list[str]:
    return asyncio.run(_read_version(db_url))


OPEN_AND_REPORT = """
import asyncio, sys
from ivr.store import CallStore
async def main():
    store = CallStore(sys.argv[1])
    await store.open()
    await store.close()
asyncio.run(main())
print("alembic" in sys.modules)
"""


def _open_in_fresh_process(db_url: str) -> bool:
    """Open the store in a new interpreter; True when Alembic had to be imported."""
    done = subprocess.run(
        [sys.executable, "-c", OPEN_AND_REPORT, db_url], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] == "True"


def test_a_database_at_head_opens_without_alembic_and_an_older_one_is_upgraded(db_url: str) -> None:
    assert _open_in_fresh_process(db_url) is True  # a new database: Alembic creates it
    assert _open_in_fresh_process(db_url) is False  # at head: no Alembic at all
    at_head = _version(db_url)
    command.downgrade(alembic_config(db_url), "-1")  # as before the newest migration
    assert _version(db_url) != at_head
    assert _open_in_fresh_process(db_url) is True  # behind: Alembic runs
    assert _version(db_url) == at_head


async def _open_in_a_process(db_url: str) -> str:
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", OPEN_AND_REPORT, db_url, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await child.communicate()
    assert child.returncode == 0, err.decode()
    return out.decode().strip().splitlines()[-1]


@pytest.mark.parametrize("backend", ["postgresql"])  # a cluster's database (one SQLite file has one node)
async def test_nodes_starting_together_on_a_new_database_all_open_it(db_url: str) -> None:
    """Three controllers (a cluster's nodes) open one new database at once: one migrates it, the others
    wait for it and find it at head (without a lock two would both create the tables and one fail)."""
    imported_alembic = await asyncio.gather(*(_open_in_a_process(db_url) for _ in range(3)))
    assert sorted(imported_alembic) == ["False", "False", "True"]
    assert len(await _read_version(db_url)) == 1
