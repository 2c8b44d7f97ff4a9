"""The start-up check that skips Alembic when the database is already at the newest revision."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

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


def _version(db: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return [str(v) for v in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()]
    finally:
        engine.dispose()


OPEN_AND_REPORT = """
import asyncio, sys
from pathlib import Path
from ivr.store import CallStore, default_db_url
async def main():
    store = CallStore(default_db_url(Path(sys.argv[1])))
    await store.open()
    await store.close()
asyncio.run(main())
print("alembic" in sys.modules)
"""


def _open_in_fresh_process(data_dir: Path) -> bool:
    """Open the store in a new interpreter; True when Alembic had to be imported."""
    done = subprocess.run(
        [sys.executable, "-c", OPEN_AND_REPORT, str(data_dir)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1] == "True"


def test_a_database_at_head_opens_without_alembic_and_an_older_one_is_upgraded(tmp_path: Path) -> None:
    assert _open_in_fresh_process(tmp_path) is True  # a new database: Alembic creates it
    assert _open_in_fresh_process(tmp_path) is False  # at head: no Alembic at all
    db = tmp_path / "ivr.db"
    at_head = _version(db)
    command.downgrade(alembic_config(f"sqlite:///{db}"), "-1")  # as before the newest migration
    assert _version(db) != at_head
    assert _open_in_fresh_process(tmp_path) is True  # behind: Alembic runs
    assert _version(db) == at_head
