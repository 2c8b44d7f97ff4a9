"""What one Asterisk instance needs to know: its name, ports, ARI user and Stasis app."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ivr.pbx.errors import PbxError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class PbxConfig:
    name: str
    sip_port: int
    ari_port: int
    ari_user: str
    ari_password: str
    app: str
    rtp_start: int = 10000
    rtp_end: int = 10999
    tone_country: str = "jp"  # indications.conf: "jp" (1 s on / 2 s off) or "us"
    sip_proxy: str | None = None  # "HOST:PORT" of the Kamailio in front (IVR_SIP_PROXY); pjsip_proxy.conf

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise PbxError(f"PBX instance name {self.name!r} must be letters, digits, '.', '_' or '-'")
        for label, port in (("sip_port", self.sip_port), ("ari_port", self.ari_port)):
            if not 1 <= port <= 65535:
                raise PbxError(f"{label}={port} is not a port number (1-65535)")
        if self.sip_port == self.ari_port:
            raise PbxError(f"sip_port and ari_port are both {self.sip_port}; give them different ports")
        if not 1024 <= self.rtp_start < self.rtp_end <= 65535:
            raise PbxError(f"RTP range {self.rtp_start}-{self.rtp_end} must be ascending within 1024-65535")
        if self.tone_country not in ("jp", "us"):
            raise PbxError(f"tone_country {self.tone_country!r} must be jp or us")
        if not self.ari_password:
            raise PbxError("ari_password is empty; use load_or_create_ari_password(data_dir)")
        if not re.match(r"^[A-Za-z0-9_.-]+$", self.ari_user):
            raise PbxError(f"ari_user {self.ari_user!r} must be letters, digits, '.', '_' or '-'")
        if not re.match(r"^[A-Za-z0-9_.-]+$", self.app):
            raise PbxError(f"Stasis app name {self.app!r} must be letters, digits, '.', '_' or '-'")
        if self.sip_proxy is not None and not re.match(r"^[A-Za-z0-9.-]+:[0-9]{1,5}$", self.sip_proxy):
            raise PbxError(f"sip_proxy {self.sip_proxy!r} must be HOST:PORT")
        if any(c in self.ari_password for c in "\n\r;[]$"):
            raise PbxError("ari_password must not contain newlines, ';', '[', ']' or '$'")

    @property
    def ari_url(self) -> str:
        return f"http://127.0.0.1:{self.ari_port}"
