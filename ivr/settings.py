"""Site settings, read once from the environment.

Every setting has an ``IVR_*`` environment variable; defaults suit ``make up`` on one machine.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from exc


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a number") from exc


def _env_path(name: str) -> Path | None:
    raw = os.environ.get(name)
    return Path(raw).resolve() if raw else None


def _env_bool(name: str, default: bool) -> bool:
    raw = (os.environ.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: use true or false")


def _outbound_dial(template: str) -> str:
    if "{number}" not in template:
        raise SettingsError(f"IVR_OUTBOUND_DIAL={template!r} must contain {{number}} (the customer's number)")
    try:
        template.format(number="0312345678")
    except (KeyError, IndexError, ValueError) as exc:
        raise SettingsError(f"IVR_OUTBOUND_DIAL={template!r}: only {{number}} may appear in braces") from exc
    return template


def _sip_proxy(raw: str | None) -> str | None:
    """``IVR_SIP_PROXY``: ``HOST:PORT`` of the Kamailio in front of this node, or None (unset)."""
    if raw is None or raw.strip() == "":
        return None
    host, sep, port = raw.strip().rpartition(":")
    if not sep or not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", host) or not port.isdigit():
        raise SettingsError(f"IVR_SIP_PROXY={raw!r}: use HOST:PORT (e.g. 127.0.0.1:5090)")
    if not 1 <= int(port) <= 65535:
        raise SettingsError(f"IVR_SIP_PROXY={raw!r}: {port} is not a port number (1-65535)")
    return f"{host}:{int(port)}"


def _node(raw: str | None) -> str:
    """``IVR_NODE``: this node's name in a cluster (unset: the host name, else "main")."""
    name = (raw or "").strip() or socket.gethostname().split(".")[0] or "main"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
        raise SettingsError(f"IVR_NODE={name!r}: use up to 64 letters, digits, '.', '_' or '-'")
    return name


def _store_linger_s(ms: float) -> float:
    if not 0 <= ms <= 1000:
        raise SettingsError(f"IVR_STORE_LINGER_MS={ms:g}: use 0 (write at once) to 1000 milliseconds")
    return ms / 1000


def _retention_days(days: int) -> int:
    if days < 0:
        raise SettingsError(f"IVR_RECORDING_RETENTION_DAYS={days}: use 0 (keep forever) or more days")
    return days


def _drain_s(seconds: float) -> float:
    if seconds < 0:
        raise SettingsError(f"IVR_DRAIN_S={seconds:g}: use 0 (stop at once) or more seconds")
    return seconds


DEFAULT_OUTBOUND_DIAL = "PJSIP/trunk/sip:{number}@127.0.0.1:5070"
"""The demo's outbound gateway for callbacks (a SIP phone or carrier on 127.0.0.1:5070)."""


class SettingsError(ValueError):
    """A setting has a value the system cannot use."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    # Asterisk
    pbx_mode: str  # "auto" | "root" | "system" | "external"
    pbx_root: Path
    pbx_name: str  # instance name: several Asterisks may run from one root (tests beside `make up`)
    ari_url: str
    ari_user: str
    ari_password: str | None  # None: generated and kept in data_dir/secrets.json
    ari_app: str
    ari_wait_s: float  # how long start-up waits for ARI to answer before giving up
    sip_port: int
    http_port_ari: int
    # Controller
    http_host: str
    http_port: int
    admin_token: str | None
    db_url: str
    flows_dir: Path | None
    recordings_dir: Path  # voicemail messages, filed by day: <dir>/<YYYY-MM-DD>/<call id>-<name>.wav
    default_flow: str
    site_name: str
    rtp_start: int
    rtp_end: int
    services_orders: str  # base URL of the order service the shop flow looks orders up in
    hours_override: str  # "open" | "closed" | "" (follow the flows' calendars)
    ring_cycle_s: float  # one ring (on + off); Japan 3 s, North America 6 s
    answer_target_rings: int
    # ACD
    agents_file: Path | None = None  # None: data_dir/agents.yaml, a copy of acd/defaults/agents.yaml
    queues_file: Path | None = None  # None: the shipped queues (acd/defaults/queues.yaml)
    auto_login: bool = True  # a phone that registers logs its agent in (available)
    outbound_dial: str = "PJSIP/trunk/sip:{number}@127.0.0.1:5070"  # callbacks dial this; {number}: customer
    short_abandon_s: float = 5.0
    admin_password: str | None = None  # IVR_ADMIN_PASSWORD: the web admin's password (else generated)
    cookie_secure: bool = False  # IVR_COOKIE_SECURE: mark session cookies Secure (site served over HTTPS)
    recording_retention_days: int = 90  # operator conversations kept this many days; 0: forever
    drain_s: float = 30.0  # IVR_DRAIN_S: on SIGTERM, how long calls in progress may go on before detaching
    store_linger_s: float = 0.05
    """IVR_STORE_LINGER_MS (50): how long the call recorder, idle, waits after a write for more to share
    its transaction (group commit): a transaction costs ~1 ms of CPU, a write in one ~0.04 ms."""
    sip_proxy: str | None = None
    """IVR_SIP_PROXY: ``HOST:PORT`` of the Kamailio in front of this node (scale-out): Asterisk takes calls
    from it as from the trunk and rings operators through it. None: operators register at this Asterisk."""
    node: str = "main"
    """IVR_NODE: this node's name in a cluster (its agent reservations and shared agent states carry it);
    unset: the host name. Each node sharing one PostgreSQL database needs its own."""

    @property
    def site_vars(self) -> dict[str, str]:
        """Variables every flow sees (they override a flow's own ``vars``)."""
        return {"services.orders": self.services_orders, "hours.override": self.hours_override}

    @property
    def site_flows_dir(self) -> Path:
        """Where site flows live and the browser's flow editor publishes: ``IVR_FLOWS_DIR``, else
        ``<data_dir>/flows``. Its flows override shipped flows of the same name."""
        return self.flows_dir if self.flows_dir is not None else self.data_dir / "flows"

    @property
    def agent_dial(self) -> str:
        """What an operator's phone is dialled as (``{agent}``: the operator id): the endpoint the phone
        registered to here, or through the Kamailio in front (``sip_proxy``)."""
        if self.sip_proxy is None:
            return "PJSIP/{agent}"
        return f"PJSIP/kamailio/sip:{{agent}}@{self.sip_proxy}"

    @property
    def answer_target_s(self) -> float:
        return self.ring_cycle_s * self.answer_target_rings

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(_env("IVR_DATA_DIR", str(PROJECT_ROOT / "var"))).resolve()
        ari_port = _env_int("IVR_ARI_PORT", 8088)
        flows_dir = os.environ.get("IVR_FLOWS_DIR")
        http_host = _env("IVR_HTTP_HOST", "127.0.0.1")
        http_port = _env_int("IVR_HTTP_PORT", 8080)
        hours_override = _env("IVR_HOURS_OVERRIDE", "").strip().lower()
        if hours_override not in ("", "open", "closed"):
            raise SettingsError(f"IVR_HOURS_OVERRIDE={hours_override!r}: use open, closed or leave it empty")
        return cls(
            data_dir=data_dir,
            pbx_mode=_env("IVR_PBX", "auto"),
            pbx_root=Path(_env("IVR_PBX_ROOT", "/var/cache/ivr/asterisk-root")),
            pbx_name=_env("IVR_PBX_NAME", "main"),
            ari_url=_env("IVR_ARI_URL", f"http://127.0.0.1:{ari_port}"),
            ari_user=_env("IVR_ARI_USER", "ivr"),
            ari_password=os.environ.get("IVR_ARI_PASSWORD") or None,
            ari_app=_env("IVR_ARI_APP", "ivr"),
            ari_wait_s=_env_float("IVR_ARI_WAIT_S", 30.0),
            sip_port=_env_int("IVR_SIP_PORT", 5060),
            http_port_ari=ari_port,
            http_host=http_host,
            http_port=http_port,
            admin_token=os.environ.get("IVR_ADMIN_TOKEN") or None,
            db_url=_env("IVR_DB_URL", f"sqlite+aiosqlite:///{data_dir / 'ivr.db'}"),
            flows_dir=Path(flows_dir) if flows_dir else None,
            recordings_dir=Path(_env("IVR_RECORDINGS_DIR", str(PROJECT_ROOT / "recordings"))).resolve(),
            default_flow=_env("IVR_DEFAULT_FLOW", "shop"),
            site_name=_env("IVR_SITE_NAME", "Demo Shop"),
            rtp_start=_env_int("IVR_RTP_START", 20000),
            rtp_end=_env_int("IVR_RTP_END", 20999),
            services_orders=_env("IVR_SERVICES_ORDERS", f"http://{http_host}:{http_port}/demo"),
            hours_override=hours_override,
            ring_cycle_s=_env_float("IVR_RING_CYCLE_S", 3.0),
            answer_target_rings=_env_int("IVR_ANSWER_TARGET_RINGS", 3),
            agents_file=_env_path("IVR_AGENTS_FILE"),
            queues_file=_env_path("IVR_QUEUES_FILE"),
            auto_login=_env_bool("IVR_AUTO_LOGIN", True),
            outbound_dial=_outbound_dial(
                _env("IVR_OUTBOUND_DIAL", "PJSIP/trunk/sip:{number}@127.0.0.1:5070")
            ),
            short_abandon_s=_env_float("IVR_SHORT_ABANDON_S", 5.0),
            admin_password=os.environ.get("IVR_ADMIN_PASSWORD") or None,
            cookie_secure=_env_bool("IVR_COOKIE_SECURE", False),
            recording_retention_days=_retention_days(_env_int("IVR_RECORDING_RETENTION_DAYS", 90)),
            drain_s=_drain_s(_env_float("IVR_DRAIN_S", 30.0)),
            store_linger_s=_store_linger_s(_env_float("IVR_STORE_LINGER_MS", 50.0)),
            sip_proxy=_sip_proxy(os.environ.get("IVR_SIP_PROXY")),
            node=_node(os.environ.get("IVR_NODE")),
        )
