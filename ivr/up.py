"""``ivr up`` (Asterisk + controller + web, foreground) and ``ivr serve`` (controller only)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any

from ivr.app import Controller, MediaPaths, StartupError
from ivr.pbx.config import PbxConfig
from ivr.pbx.errors import PbxError
from ivr.pbx.factory import pbx_for
from ivr.pbx.instance import Pbx
from ivr.pbx.secrets import load_or_create_ari_password
from ivr.settings import Settings, SettingsError
from ivr.web.auth import resolve_admin_token

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    up = sub.add_parser(
        "up", help="start Asterisk, the controller and the web API (foreground; Ctrl-C stops all)"
    )
    up.set_defaults(func=lambda args: _run(start_pbx=True))
    serve = sub.add_parser(
        "serve", help="start the controller and web API against an Asterisk that already runs"
    )
    serve.set_defaults(func=lambda args: _run(start_pbx=False))


def _pbx_config(settings: Settings, password: str) -> PbxConfig:
    return PbxConfig(
        name=settings.pbx_name,
        sip_port=settings.sip_port,
        ari_port=settings.http_port_ari,
        ari_user=settings.ari_user,
        ari_password=password,
        app=settings.ari_app,
        rtp_start=settings.rtp_start,
        rtp_end=settings.rtp_end,
    )


def _run(*, start_pbx: bool) -> int:
    try:
        return asyncio.run(_main(start_pbx=start_pbx))
    except (StartupError, PbxError, SettingsError) as exc:
        print(f"ivr: error: {exc}", file=sys.stderr)
        return 2


async def _main(*, start_pbx: bool) -> int:
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    password = settings.ari_password or load_or_create_ari_password(settings.data_dir)
    token, generated = resolve_admin_token(settings.admin_token, settings.data_dir)
    pbx: Pbx = pbx_for(settings, _pbx_config(settings, password))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    if start_pbx:
        await pbx.start(progress=lambda line: print(line, file=sys.stderr, flush=True))
    controller = Controller(
        settings,
        ari_password=password,
        admin_token=token,
        media=MediaPaths(pbx.sounds_dir, pbx.media_uri, pbx.recording_spool),
    )
    run_task = asyncio.create_task(controller.run(), name="controller")
    stop_task = asyncio.create_task(stop.wait(), name="stop-signal")
    ready_task = asyncio.create_task(controller.ready.wait(), name="ready")
    try:
        done, _ = await asyncio.wait({run_task, ready_task}, return_when=asyncio.FIRST_COMPLETED)
        if ready_task in done:
            _banner(settings, token, generated, start_pbx, controller.banner_lines)
            await asyncio.wait({run_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
        if run_task.done():
            run_task.result()  # re-raises a startup error
        return 0
    finally:
        for task in (run_task, stop_task, ready_task):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError, StartupError):
            await run_task
        if start_pbx:
            print("stopping Asterisk…", file=sys.stderr, flush=True)
            await pbx.stop()


def _banner(
    settings: Settings, token: str, generated: bool, started_pbx: bool, extra: list[str] | None = None
) -> None:
    extra = extra or []
    where = (
        "generated, kept in " + str(settings.data_dir / "admin_token")
        if generated
        else "from IVR_ADMIN_TOKEN"
    )
    lines = [
        "",
        f"  {settings.site_name} IVR is up",
        f"  web       http://{settings.http_host}:{settings.http_port}/login  (wallboard, reports, calls, "
        "flows, agents; API at /api/openapi.json)",
        f"  token     {token}  ({where})",
        f"  ARI       {settings.ari_url}  app '{settings.ari_app}'",
    ]
    if started_pbx:
        lines.append(
            f"  SIP       udp 127.0.0.1:{settings.sip_port} — sip:100@127.0.0.1:{settings.sip_port} is the "
            f"digit echo line; any other number enters flow '{settings.default_flow}'"
        )
    lines += [f"  {line}" for line in extra]
    lines += ["  Ctrl-C stops everything.", ""]
    print("\n".join(lines), file=sys.stderr, flush=True)
