"""Alembic environment for the call store.

``ivr.store.migrate.upgrade`` runs migrations programmatically and passes a live connection in
``config.attributes["connection"]``. Run from the ``alembic`` command line, an engine is built from
``sqlalchemy.url``: SQLite's async driver is mapped to the standard library's; any other async driver
(``postgresql+asyncpg``) is used as it is, in an event loop of its own (no second driver needed).
Logging is never configured here: the application owns it.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from ivr.store.models import Base

config = context.config
target_metadata = Base.metadata

_SYNC_DRIVERS = {"sqlite+aiosqlite": "sqlite"}


def _configure_and_run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _configure_and_run(connection)
        return
    url = make_url(config.get_main_option("sqlalchemy.url") or "")
    url = url.set(drivername=_SYNC_DRIVERS.get(url.drivername, url.drivername))
    if url.get_dialect().is_async:
        asyncio.run(_run_async(url))
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            _configure_and_run(conn)
            conn.commit()
    finally:
        engine.dispose()


async def _run_async(url: URL) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
