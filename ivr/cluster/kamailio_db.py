"""Kamailio's registrations (usrloc) in PostgreSQL: its tables, from the SQL the Debian package ships.

With contacts in the database (``KamailioSettings.db_url``, usrloc ``db_mode`` 2) a restarted Kamailio
still knows where every operator's phone is, and the contacts can be read by anything that shares the
database. Kamailio does not create its tables; ``usrloc_schema`` gives the statements for the ``version``
and ``location`` tables, and ``kamailio_db_url`` the URL form Kamailio's ``db_postgres`` reads.
"""

from __future__ import annotations

from pathlib import Path

SQL_DIR = Path("/usr/share/kamailio/postgres")
TABLES = ("standard", "usrloc")  # version (standard), location (usrloc)


class KamailioSchemaMissing(RuntimeError):
    """The Debian package's SQL files are not there (``apt-get install kamailio``)."""


def usrloc_schema(sql_dir: Path = SQL_DIR) -> str:
    """The SQL that creates Kamailio's ``version`` and ``location`` tables (for an empty database)."""
    parts = []
    for name in TABLES:
        path = sql_dir / f"{name}-create.sql"
        try:
            parts.append(path.read_text())
        except OSError as exc:
            raise KamailioSchemaMissing(f"{path}: {exc.strerror} (apt-get install kamailio)") from exc
    return "\n".join(parts)


def kamailio_db_url(host: str, port: int, database: str, user: str, password: str = "") -> str:
    """``postgres://user[:password]@host:port/database``, as Kamailio's ``db_postgres`` reads it."""
    secret = f":{password}" if password else ""
    return f"postgres://{user}{secret}@{host}:{port}/{database}"
