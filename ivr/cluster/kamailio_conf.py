"""Render Kamailio's configuration (``kamailio_conf/kamailio.cfg``) for one front door.

Pure: settings in, text out. The template uses ``%%{name}`` placeholders (Kamailio's own ``$``
variables pass through untouched). Operators' secrets never appear in the output: only their digest
hashes, HA1 = MD5(id:realm:secret), which Kamailio checks with ``pv_www_authenticate``.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent.parent / "kamailio_conf" / "kamailio.cfg"
DEFAULT_MODULES_DIR = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")

ALGORITHMS = {"call-id": 0, "round-robin": 4, "priority": 8}
"""Dispatcher algorithms offered: hash over Call-ID, round-robin, by priority (highest first)."""

_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$")
_REALM = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_DB_URL = re.compile(r"^postgres://[^\s\"]+$")


class KamailioConfigError(ValueError):
    """A setting Kamailio cannot be given (the message names it)."""


class _Template(string.Template):
    delimiter = "%%"


@dataclass(frozen=True)
class Node:
    """An Asterisk node behind the front door. ``priority``: higher is tried first (``priority``
    algorithm only)."""

    host: str
    port: int
    priority: int = 0

    @property
    def uri(self) -> str:
        return f"sip:{self.host}:{self.port}"


@dataclass(frozen=True)
class Operator:
    """An operator who registers a phone here: SIP user ``id`` with password ``secret``."""

    id: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class KamailioSettings:
    nodes: tuple[Node, ...]
    operators: tuple[Operator, ...] = ()
    listen_host: str = "127.0.0.1"
    listen_port: int = 5090
    probe_interval_s: int = 1
    """OPTIONS to every node this often; a node that fails one probe takes no new calls until it
    answers one again. 0: no probing (failover only when a call to the node fails)."""
    algorithm: str = "round-robin"
    realm: str = "ivr"
    no_reply_timeout_ms: int = 2000
    """A node that sends nothing back to an INVITE within this time is given up for the next."""
    db_url: str | None = None
    """``postgres://user:password@host:port/db``: contacts kept in PostgreSQL (Kamailio's
    ``location`` table must exist); None: in memory."""
    modules_dir: Path = DEFAULT_MODULES_DIR
    children: int = 2

    def __post_init__(self) -> None:
        check(self)


def check(settings: KamailioSettings) -> None:
    """Raise ``KamailioConfigError`` for the first setting Kamailio could not be given."""
    if not settings.nodes:
        raise KamailioConfigError("no Asterisk nodes: give at least one host:port")
    for node in settings.nodes:
        _check_host(node.host, "node host")
        _check_port(node.port, f"node {node.host} port")
    if len({(n.host, n.port) for n in settings.nodes}) != len(settings.nodes):
        raise KamailioConfigError("a node is listed twice")
    _check_host(settings.listen_host, "listen host")
    _check_port(settings.listen_port, "listen port")
    if any((n.host, n.port) == (settings.listen_host, settings.listen_port) for n in settings.nodes):
        raise KamailioConfigError(
            f"node {settings.listen_host}:{settings.listen_port} is Kamailio's own address"
        )
    seen: set[str] = set()
    for operator in settings.operators:
        if not _ID.match(operator.id):
            raise KamailioConfigError(f"operator id {operator.id!r}: letters, digits, '.', '_' or '-'")
        if operator.id in seen:
            raise KamailioConfigError(f"operator {operator.id} is listed twice")
        seen.add(operator.id)
        if not operator.secret:
            raise KamailioConfigError(f"operator {operator.id} has no secret (no anonymous phones)")
    if settings.algorithm not in ALGORITHMS:
        raise KamailioConfigError(
            f"algorithm {settings.algorithm!r}: use one of {', '.join(sorted(ALGORITHMS))}"
        )
    if not 0 <= settings.probe_interval_s <= 3600:
        raise KamailioConfigError(f"probe interval {settings.probe_interval_s} s: use 0-3600")
    if not 100 <= settings.no_reply_timeout_ms <= 60000:
        raise KamailioConfigError(f"no-reply timeout {settings.no_reply_timeout_ms} ms: use 100-60000")
    if not _REALM.match(settings.realm):
        raise KamailioConfigError(f"realm {settings.realm!r}: letters, digits, '.', '_' or '-'")
    if settings.db_url is not None and not _DB_URL.match(settings.db_url):
        raise KamailioConfigError("db_url must look like postgres://user:password@host:port/db")
    if not 1 <= settings.children <= 64:
        raise KamailioConfigError(f"children {settings.children}: use 1-64")
    if '"' in str(settings.modules_dir):
        raise KamailioConfigError("modules_dir must not contain '\"'")


def _check_host(host: str, label: str) -> None:
    if not _HOST.match(host):
        raise KamailioConfigError(f"{label} {host!r} is not an IP address or host name")


def _check_port(port: int, label: str) -> None:
    if not 1 <= port <= 65535:
        raise KamailioConfigError(f"{label} {port} is not a port number (1-65535)")


def ha1(operator_id: str, realm: str, secret: str) -> str:
    """The digest hash Kamailio checks a REGISTER against (RFC 2617 HA1)."""
    text = f"{operator_id}:{realm}:{secret}".encode()
    return hashlib.md5(text, usedforsecurity=False).hexdigest()  # SIP digest is MD5


def render_dispatcher_list(nodes: Iterable[Node]) -> str:
    """The dispatcher ``list_file``: set 1, one line per node (``setid uri flags priority``)."""
    lines = ["# Rendered by ivr/cluster: the IVR nodes (set 1). setid uri flags priority"]
    lines += [f"1 {node.uri} 0 {node.priority}" for node in nodes]
    return "\n".join(lines) + "\n"


def render_config(settings: KamailioSettings, *, dispatcher_file: Path, template: Path = TEMPLATE) -> str:
    """``kamailio.cfg`` for these settings; ``dispatcher_file`` is where the node list is written."""
    if '"' in str(dispatcher_file):
        raise KamailioConfigError("dispatcher file path must not contain '\"'")
    hashes = [
        f'\t$sht(agents=>{op.id}) = "{ha1(op.id, settings.realm, op.secret)}";' for op in settings.operators
    ]
    values = {
        "listen_host": settings.listen_host,
        "listen_port": settings.listen_port,
        "children": settings.children,
        "modules_dir": str(settings.modules_dir).rstrip("/") + "/",
        "probe_interval_s": settings.probe_interval_s,
        "no_reply_timeout_ms": settings.no_reply_timeout_ms,
        "realm": settings.realm,
        "algorithm": ALGORITHMS[settings.algorithm],
        "dispatcher_file": str(dispatcher_file),
        "agent_hashes": "\n".join(hashes) or "\t# no operators",
        "db_module": 'loadmodule "db_postgres.so"' if settings.db_url else "",
        "usrloc_db_mode": 1 if settings.db_url else 0,  # 1: write-through, every node reads it at once
        "usrloc_db_url": f'modparam("usrloc", "db_url", "{settings.db_url}")' if settings.db_url else "",
    }
    try:
        return _Template(template.read_text()).substitute(values)
    except KeyError as exc:
        raise KamailioConfigError(f"{template}: no value for %%{{{exc.args[0]}}}") from exc
    except ValueError as exc:
        raise KamailioConfigError(f"{template}: {exc} (write a literal %% as %%%%)") from exc
