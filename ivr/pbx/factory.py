"""Pick the Asterisk for these settings: system binary, cached Debian sid root, or external."""

from __future__ import annotations

import dataclasses
import itertools
import os
import secrets
import shutil

from ivr.pbx.config import PbxConfig
from ivr.pbx.errors import PbxError
from ivr.pbx.instance import MODES, Pbx
from ivr.pbx.ports import free_udp_range, free_udp_tcp_port
from ivr.pbx.secrets import load_or_create_ari_password
from ivr.settings import Settings

INSTANCES_IN_ROOT = "srv/ivr"
_scratch_numbers = itertools.count(1)


def config_from_settings(settings: Settings, name: str = "main") -> PbxConfig:
    """The configuration of the site's own Asterisk (``make up``)."""
    password = settings.ari_password or load_or_create_ari_password(settings.data_dir)
    return PbxConfig(
        name=name,
        sip_port=settings.sip_port,
        ari_port=settings.http_port_ari,
        ari_user=settings.ari_user,
        ari_password=password,
        app=settings.ari_app,
        rtp_start=10000,
        rtp_end=10999,
        sip_proxy=settings.sip_proxy,
    )


def pbx_for(settings: Settings, config: PbxConfig) -> Pbx:
    """``IVR_PBX``: auto (system asterisk if on PATH, else the root), root, system or external."""
    mode = settings.pbx_mode
    if mode not in MODES:
        raise PbxError(f"IVR_PBX={mode!r} is not one of {', '.join(MODES)}")
    if mode == "external":
        return Pbx(
            config,
            mode="external",
            instance_dir=settings.data_dir / "pbx" / config.name,
            ari_url=settings.ari_url,
        )
    system = shutil.which("asterisk")
    if mode == "system" and system is None:
        raise PbxError("IVR_PBX=system but no asterisk on PATH; install it or use IVR_PBX=root")
    if system is not None and mode in ("auto", "system"):
        return Pbx(config, mode="system", instance_dir=settings.data_dir / "pbx" / config.name, binary=system)
    root = settings.pbx_root
    return Pbx(config, mode="root", instance_dir=root / INSTANCES_IN_ROOT / config.name, chroot=root)


def scratch_pbx(
    settings: Settings, *, prefix: str = "test", app: str = "ivr-test", ari_user: str = "ivr"
) -> Pbx:
    """A throw-away instance on free ports with a unique name and a random ARI password (tests).

    ``IVR_PBX=external`` is not honoured here: tests always get an Asterisk of their own.
    """
    name = f"{prefix}-{os.getpid()}-{next(_scratch_numbers)}"
    sip_port = free_udp_tcp_port()
    ari_port = free_udp_tcp_port(exclude={sip_port})
    rtp_start, rtp_end = free_udp_range(200)
    config = PbxConfig(
        name=name,
        sip_port=sip_port,
        ari_port=ari_port,
        ari_user=ari_user,
        ari_password=secrets.token_urlsafe(16),
        app=app,
        rtp_start=rtp_start,
        rtp_end=rtp_end,
    )
    if settings.pbx_mode == "external":
        settings = _with_mode(settings, "auto")
    return pbx_for(settings, config)


def _with_mode(settings: Settings, mode: str) -> Settings:
    return dataclasses.replace(settings, pbx_mode=mode)
