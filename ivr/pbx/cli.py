"""``ivr pbx status|start|stop``: the site's Asterisk by hand (``make up`` starts it itself)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from typing import Any

from ivr.pbx.errors import PbxError
from ivr.pbx.factory import config_from_settings, pbx_for
from ivr.pbx.instance import Pbx
from ivr.pbx.root import stderr_progress
from ivr.pbx.templates import TemplateError
from ivr.settings import Settings, SettingsError


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Add ``pbx`` with ``status``, ``start`` and ``stop``; each sets ``func(args) -> int``."""
    pbx = subparsers.add_parser("pbx", help="start, stop or inspect the Asterisk")
    actions = pbx.add_subparsers(dest="pbx_command", required=True)
    for name, func, help_text in (
        ("status", cmd_status, "is it running, on which ports, does ARI answer"),
        ("start", cmd_start, "start it and leave it running (pidfile in its run directory)"),
        ("stop", cmd_stop, "stop the one 'pbx start' left running"),
    ):
        action = actions.add_parser(name, help=help_text)
        action.add_argument("--name", default="main", help="instance name (default: main)")
        if name == "start":
            action.add_argument("--sip-port", type=int, help="SIP UDP port (default: IVR_SIP_PORT)")
            action.add_argument("--ari-port", type=int, help="ARI HTTP port (default: IVR_ARI_PORT)")
        action.set_defaults(func=func)


def _pbx(args: argparse.Namespace) -> Pbx:
    settings = Settings.from_env()
    config = config_from_settings(settings, args.name)
    sip_port = getattr(args, "sip_port", None) or config.sip_port
    ari_port = getattr(args, "ari_port", None) or config.ari_port
    config = dataclasses.replace(config, sip_port=sip_port, ari_port=ari_port)
    pbx = pbx_for(settings, config)
    if ari_port != settings.http_port_ari and settings.pbx_mode != "external":
        pbx.ari_url = config.ari_url
    return pbx


def _run(args: argparse.Namespace, action: str) -> int:
    try:
        pbx = _pbx(args)
        return asyncio.run(_ACTIONS[action](pbx))
    except (PbxError, SettingsError, TemplateError) as exc:
        print(f"ivr pbx {action}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


async def _status(pbx: Pbx) -> int:
    status = pbx.status()
    answers = await pbx.ari_answers()
    state = "running" if status.running else ("external" if status.mode == "external" else "stopped")
    print(f"asterisk {status.name}: {state} (mode {status.mode})")
    if status.pid is not None:
        print(f"  pid {status.pid}")
    print(f"  SIP udp 127.0.0.1:{status.sip_port}")
    print(f"  ARI {status.ari_url} {'answers' if answers else 'does not answer'}")
    return 0 if answers else 3


async def _start(pbx: Pbx) -> int:
    await pbx.start(stderr_progress)
    print(f"asterisk {pbx.name} running, pid {pbx.pid}")
    print(f"  ARI {pbx.ari_url} (user {pbx.config.ari_user}, app {pbx.config.app})")
    print(f"  SIP udp 127.0.0.1:{pbx.config.sip_port}; logs in {pbx.log_dir}")
    print("  stop it with: ivr pbx stop" + ("" if pbx.name == "main" else f" --name {pbx.name}"))
    return 0


async def _stop(pbx: Pbx) -> int:
    pid = pbx.pid
    if pid is None:
        print(f"asterisk {pbx.name}: not running")
        return 0
    await pbx.stop()
    print(f"asterisk {pbx.name}: stopped (pid {pid})")
    return 0


_ACTIONS = {"status": _status, "start": _start, "stop": _stop}


def cmd_status(args: argparse.Namespace) -> int:
    return _run(args, "status")


def cmd_start(args: argparse.Namespace) -> int:
    return _run(args, "start")


def cmd_stop(args: argparse.Namespace) -> int:
    return _run(args, "stop")


__all__ = ["cmd_start", "cmd_status", "cmd_stop", "register"]
