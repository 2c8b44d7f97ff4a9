from __future__ import annotations

import asyncio
import io

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from ivr.store import CallStore
from ivr.store.migrate import MIGRATIONS_DIR, alembic_config
from ivr.store.models import Base


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


async def _schema_diff_and_tables(db_url: str) -> tuple[list[object], set[str]]:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_differences)
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()
    return diff, tables


async def test_migrations_match_models(db_url: str) -> None:
    store = CallStore(db_url)
    await store.open()
    await store.close()
    diff, tables = await _schema_diff_and_tables(db_url)
    assert diff == []
    assert set(Base.metadata.tables) <= tables


def test_every_migration_downgrades_and_upgrades_again(db_url: str) -> None:
    cfg = alembic_config(db_url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    _diff, tables = asyncio.run(_schema_diff_and_tables(db_url))
    assert tables == {"alembic_version"}
    command.upgrade(cfg, "head")
    diff, tables = asyncio.run(_schema_diff_and_tables(db_url))
    assert diff == [] and set(Base.metadata.tables) <= tables


def test_postgresql_ddl_renders_without_sqlite_only_sql() -> None:
    cfg = alembic_config("postgresql+asyncpg://ivr:pw@127.0.0.1/ivr")
    out = io.StringIO()
    cfg.output_buffer = out
    command.upgrade(cfg, "head", sql=True)
    sql = out.getvalue()
    assert "CREATE TABLE calls" in sql and "SERIAL" in sql
    assert "PRAGMA" not in sql and "AUTOINCREMENT" not in sql


def test_migration_files_live_in_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "versions" / "0001_initial.py").is_file()
    assert (MIGRATIONS_DIR.parent / "alembic.ini").is_file()
