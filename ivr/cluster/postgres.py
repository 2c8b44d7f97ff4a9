"""A private PostgreSQL cluster: its own data directory, a free loopback port (tests, benches, and
``ivr cluster up``, which keeps it in ``var/``).

Debian's ``postgresql-15`` binaries run as a plain process (no service): ``initdb`` with trust auth for
the ``ivr`` role, ``pg_ctl start`` listening on 127.0.0.1 only, and ``pg_ctl -m fast stop`` by the
data directory it created. PostgreSQL refuses to run as root, so as root the cluster runs as the
``postgres`` system user (created by the Debian package) and the directory is handed to it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN_DIRS = (Path("/usr/lib/postgresql/15/bin"), Path("/usr/lib/postgresql/16/bin"))
ROLE = "ivr"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server binaries are not installed (``apt-get install postgresql-15``)."""


def pg_bin_dir() -> Path:
    for d in PG_BIN_DIRS:
        if (d / "pg_ctl").exists():
            return d
    raise PostgresUnavailable("PostgreSQL server binaries not found: apt-get install postgresql-15")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresCluster:
    """``start()`` a private cluster; ``url(db)`` for SQLAlchemy; ``stop()`` it (also on GC of the dir)."""

    base_dir: Path | None = None
    port: int = 0
    data_dir: Path = field(init=False)
    _run_as: list[str] = field(init=False, default_factory=list)
    _owned_tmp: Path | None = field(init=False, default=None)
    running: bool = field(init=False, default=False)

    def start(self) -> PostgresCluster:
        bin_dir = pg_bin_dir()
        if self.base_dir is None:
            self._owned_tmp = Path(tempfile.mkdtemp(prefix="ivr-pg-"))
            self.base_dir = self._owned_tmp
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = self.base_dir / "pgdata"
        self.port = self.port or free_port()
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.base_dir, user.pw_uid, user.pw_gid)
            self._run_as = ["runuser", "-u", "postgres", "--"]
        if not (self.data_dir / "PG_VERSION").exists():
            self._run([str(bin_dir / "initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", ROLE])
        options = (
            f"-p {self.port} -k {self.base_dir} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        log = self.base_dir / "postgres.log"
        self._run(
            [str(bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options, "-l", str(log), "-w", "start"]
        )
        self.running = True
        return self

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(
            [*self._run_as, *argv], capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    @property
    def pid(self) -> int | None:
        """The postmaster's pid, from its pid file (None when not running)."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def url(self, database: str = "postgres", driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://{ROLE}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL with ``psql`` (autocommit: CREATE DATABASE works); returns its output."""
        argv = [
            str(pg_bin_dir() / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE,
            "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql,
        ]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()}")
        return done.stdout

    def create_database(self, name: str, template: str | None = None) -> str:
        """A fresh database, empty or a copy of ``template`` (which nobody may be connected to);
        returns its SQLAlchemy URL."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing its connections first."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def restart(self, down_s: float = 0.0) -> None:
        """Stop (fast) and start again on the same port, ``down_s`` seconds later."""
        self.stop(remove=False)
        time.sleep(down_s)
        self.start()

    def stop(self, *, remove: bool = True) -> None:
        if self.running:
            self._run([str(pg_bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
            self.running = False
        if remove and self._owned_tmp is not None:
            shutil.rmtree(self._owned_tmp, ignore_errors=True)
            self._owned_tmp = None
