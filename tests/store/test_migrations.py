from __future__ import annotations

import io
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from ivr.store import CallStore, default_db_url
from ivr.store.migrate import MIGRATIONS_DIR, alembic_config
from ivr.store.models import Base


async def test_migrations_match_models(tmp_path: Path) -> None:
    store = CallStore(default_db_url(tmp_path))
    await store.open()
    await store.close()
    engine = create_engine(f"sqlite:///{tmp_path / 'ivr.db'}")
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []


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
