"""``ivr up`` (Asterisk + a supervised controller with the web, foreground) and ``ivr serve`` (the
controller only; ``ivr up`` runs it as its child, see ``ivr.up_child``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, MutableMapping
from typing import Any

from ivr.app import Controller, MediaPaths, StartupError
from ivr.event_loop import loop_factory
from ivr.pbx.config import PbxConfig
from ivr.pbx.errors import PbxError
from ivr.pbx.factory import pbx_for
from ivr.pbx.instance import Pbx
from ivr.pbx.secrets import load_or_create_ari_password
from ivr.settings import Settings, SettingsError
from ivr.supervisor import STARTUP_ERROR
from ivr.up_child import AlreadyUp, hold_up_lock, supervise
from ivr.web.auth import resolve_admin_token

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    up = sub.add_parser(
        "up",
        help="start Asterisk (or adopt its own still running) and a supervised controller with the web "
        "API (foreground; Ctrl-C drains and stops all)",
    )
    up.add_argument(
        "--node",
        metavar="NAME",
        help="run as node NAME of a cluster (sets IVR_NODE, and IVR_PBX_NAME unless set: its Asterisk "
        "instance and channel ids carry the name); the nodes share IVR_DB_URL (PostgreSQL)",
    )
    up.set_defaults(func=lambda args: _run(_up_main(verbose=args.verbose), node=args.node))
    serve = sub.add_parser(
        "serve",
        help="start the controller and web API against an Asterisk that already runs "
        "(SIGTERM drains calls, SIGINT stops at once)",
    )
    serve.add_argument("--supervised", choices=("first", "restart"), help=argparse.SUPPRESS)
    serve.set_defaults(func=lambda args: _run(_serve_main(supervised=args.supervised)))


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
        sip_proxy=settings.sip_proxy,
    )


def as_node(environ: MutableMapping[str, str], node: str | None) -> None:
    """``ivr up --node NAME``: this process (and the controller it starts) is node NAME of a cluster."""
    if node is None:
        return
    environ["IVR_NODE"] = node
    environ.setdefault("IVR_PBX_NAME", node)


def _run(main: Coroutine[Any, Any, int], *, node: str | None = None) -> int:
    as_node(os.environ, node)
    try:
        factory = loop_factory()  # IVR_EVENT_LOOP: uvloop (the default when installed) or asyncio
    except SettingsError as exc:
        main.close()
        print(f"ivr: error: {exc}", file=sys.stderr)
        return 2
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(main)
    except (StartupError, PbxError, SettingsError, AlreadyUp) as exc:
        print(f"ivr: error: {exc}", file=sys.stderr)
        return 2


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


async def _up_main(*, verbose: bool) -> int:
    """Asterisk (started, or adopted with its calls), then the controller as a supervised child."""
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = hold_up_lock(settings.data_dir)
    password = settings.ari_password or load_or_create_ari_password(settings.data_dir)
    pbx: Pbx = pbx_for(settings, _pbx_config(settings, password))
    stop, hurry = asyncio.Event(), asyncio.Event()

    def on_signal() -> None:
        (hurry if stop.is_set() else stop).set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        adopted = await pbx.start_or_adopt(progress=_say)  # a failed start stops what it started
        status = 0
        try:
            if not stop.is_set():
                status = await supervise(
                    _child_argv(verbose), dict(os.environ), stop=stop, hurry=hurry, drain_s=settings.drain_s
                )
            return status
        finally:
            if adopted and status == STARTUP_ERROR:
                _say(f"Asterisk {pbx.name!r} left running with its calls (ivr pbx stop stops it)")
            else:
                _say("stopping Asterisk…")
                await pbx.stop()
    finally:
        lock.close()


def _child_argv(verbose: bool) -> Callable[[bool], list[str]]:
    """``ivr serve`` for ``ivr up``: the first run prints the banner, a restarted one does not."""

    def argv(first: bool) -> list[str]:
        flags = ["-v"] if verbose else []
        mode = "first" if first else "restart"
        return [sys.executable, "-m", "ivr.cli", *flags, "serve", "--supervised", mode]

    return argv


async def _serve_main(*, supervised: str | None) -> int:
    """The controller. SIGTERM: drain (new calls to the dialplan fallback, calls in progress go on to
    their end, at most IVR_DRAIN_S), then stop; SIGINT, or a second signal: stop at once. Either way
    the calls left stay in Asterisk for the next controller."""
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    password = settings.ari_password or load_or_create_ari_password(settings.data_dir)
    token, generated = resolve_admin_token(settings.admin_token, settings.data_dir)
    pbx: Pbx = pbx_for(settings, _pbx_config(settings, password))
    stop, drain = asyncio.Event(), asyncio.Event()

    def on_sigterm() -> None:
        (stop if drain.is_set() else drain).set()

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(signal.SIGTERM, on_sigterm)
    controller = Controller(
        settings,
        ari_password=password,
        admin_token=token,
        media=MediaPaths(
            pbx.sounds_dir, pbx.media_uri, pbx.recording_spool, pbx.log_dir / "cdr-csv" / "Master.csv"
        ),
    )
    run_task = asyncio.create_task(controller.run(), name="controller")
    stop_task = asyncio.create_task(stop.wait(), name="stop-signal")
    drain_task = asyncio.create_task(drain.wait(), name="drain-signal")
    ready_task = asyncio.create_task(controller.ready.wait(), name="ready")
    drain_run: asyncio.Task[bool] | None = None
    try:
        waiting = {run_task, ready_task, stop_task, drain_task}
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        if ready_task in done and not (stop.is_set() or drain.is_set()):
            if supervised == "restart":
                log.info("controller ready (restarted by ivr up)")
            else:
                _banner(
                    settings,
                    token,
                    generated,
                    supervised is not None,
                    controller.banner_lines,
                    hide=None if sys.stderr.isatty() else [token, *controller.banner_secrets],
                )
            done, _ = await asyncio.wait(
                {run_task, stop_task, drain_task}, return_when=asyncio.FIRST_COMPLETED
            )
            if drain_task in done and not run_task.done() and not stop.is_set():
                drain_run = asyncio.create_task(controller.drain(settings.drain_s), name="drain")
                await asyncio.wait({run_task, stop_task, drain_run}, return_when=asyncio.FIRST_COMPLETED)
        if run_task.done():
            run_task.result()  # re-raises a startup error
        return 0
    finally:
        for task in (run_task, stop_task, drain_task, ready_task, drain_run):
            if task is not None:
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError, StartupError):
            await run_task


def _banner(
    settings: Settings,
    token: str,
    generated: bool,
    started_pbx: bool,
    extra: list[str] | None = None,
    *,
    hide: list[str] | None = None,
) -> None:
    """What to do next, on stderr. ``hide``: secrets to blank out, because stderr is not a terminal
    (``ivr serve > controller.log``): a log file must not keep them; they stay in their 0600 files."""
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
    text = "\n".join(lines)
    if hide:
        for secret in sorted({s for s in hide if s}, key=len, reverse=True):
            text = text.replace(secret, "********")
        text += (
            f"  (secrets hidden: not a terminal; admin token in {settings.data_dir / 'admin_token'}, "
            "generated passwords in admin_password and agent_passwords beside it, "
            "SIP passwords in the agents file)\n"
        )
    print(text, file=sys.stderr, flush=True)
