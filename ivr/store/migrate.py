"""Run the store's Alembic migrations programmatically over an async engine.

A database already at the newest revision (every restart but the first after an upgrade) is recognised
without Alembic: the revisions are read from the migration files' ``revision``/``down_revision`` lines
and compared with the ``alembic_version`` table. Alembic (and every SQL dialect it loads, ~0.3 s of a
controller restart's CPU before it may adopt its calls) is imported only when there is work to do or
anything looks unusual (branches, a revision it does not know, no version table).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def revision_links(source: str) -> tuple[str, tuple[str, ...]] | None:
    """``(revision, down_revisions)`` of one migration file's text; None when it does not say them as
    plain string literals (then Alembic decides)."""
    found: dict[str, object] = {}
    for node in ast.parse(source).body:
        target = node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None
        if isinstance(node, ast.AnnAssign):
            target = node.target
        value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision") and value is not None:
            try:
                found[target.id] = ast.literal_eval(value)
            except ValueError:
                return None
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str):
        return None
    if down is None:
        return revision, ()
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
        return revision, tuple(str(d) for d in down)
    return None


def script_heads(sources: list[str]) -> frozenset[str] | None:
    """The head revisions of a set of migration files' texts (revisions no other one revises); None when
    a file cannot be read plainly."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for source in sources:
        links = revision_links(source)
        if links is None:
            return None
        revisions.add(links[0])
        revised.update(links[1])
    return frozenset(revisions - revised)


def _shipped_heads() -> frozenset[str] | None:
    try:
        sources = [path.read_text() for path in sorted(VERSIONS_DIR.glob("[!_]*.py"))]
    except OSError:
        return None
    return script_heads(sources) if sources else None


def _database_revisions(connection: Connection) -> frozenset[str] | None:
    """The revisions in ``alembic_version``; None when there is no such table (a new database)."""
    try:
        with connection.begin_nested():
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        return None
    return frozenset(str(row) for row in rows)


MIGRATION_LOCK = 0x1F5_0001
"""PostgreSQL advisory lock key held while a node checks and migrates: nodes starting together take turns."""


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":  # released when the migration's transaction ends
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    if revision == "head":
        heads = _shipped_heads()
        if heads and _database_revisions(connection) == heads:
            return  # already at the newest revision
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database behind ``engine`` to ``revision`` (default: the newest)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)
