"""Getting an Asterisk: the cached Debian sid root, a system binary, or one running elsewhere."""

from __future__ import annotations

from ivr.pbx.config import PbxConfig
from ivr.pbx.errors import PbxError, RootBuildError
from ivr.pbx.factory import config_from_settings, pbx_for, scratch_pbx
from ivr.pbx.instance import Pbx, PbxStatus
from ivr.pbx.ports import free_udp_range, free_udp_tcp_port
from ivr.pbx.secrets import load_or_create_ari_password

__all__ = [
    "Pbx",
    "PbxConfig",
    "PbxError",
    "PbxStatus",
    "RootBuildError",
    "config_from_settings",
    "free_udp_range",
    "free_udp_tcp_port",
    "load_or_create_ari_password",
    "pbx_for",
    "scratch_pbx",
]
