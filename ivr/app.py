"""The controller process: ARI events → call sessions, the store, flows with hot reload, the web API.

``Controller.run()`` expects an Asterisk to be reachable already (``ivr serve``); ``ivr up`` starts
one first (``ivr.up``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from acd.agents import AgentState
from acd.cluster import AcdCluster
from acd.live_metrics import read_today
from acd.metrics import ServiceStandard
from acd.recording_features import RecordingFeatures
from acd.recording_retention import run_retention
from acd.report_source import report_for
from acd.runtime import AcdConfigError, AcdFiles, AcdRuntime, load_config, phone_banner
from acd.service import AcdSettings
from acd.wallboard import AcdWallboard
from acd.web import AcdWebDeps, add_acd_routes
from acd.web_reports import ReportWebDeps, add_report_routes
from ivr.ari.client import AriClient
from ivr.ari.errors import AriAuthError, AriConnectionError, AriError
from ivr.ari.stream import EventStream
from ivr.asr.config import AsrConfig, AsrConfigError
from ivr.calls.cdr_file import CdrTail
from ivr.calls.legs import LegRegistry
from ivr.calls.manager import CallManager
from ivr.calls.node_gone_recovery import NodeGoneRecovery
from ivr.calls.orphans import AsteriskFacts
from ivr.calls.recovery import CallRecovery
from ivr.calls.session import SessionDeps
from ivr.calls.speech import SpeechService
from ivr.calls.stats import LatencyStats
from ivr.calls.voicemail_files import VoicemailFiler
from ivr.demo.orders import add_demo_routes
from ivr.flows.loader import SHIPPED_DIR
from ivr.flows.registry import FlowRegistry, UnknownFlow
from ivr.flows.site_flows import SiteFlows
from ivr.flows.static_prompts import static_prompts
from ivr.settings import Settings
from ivr.startup_clock import seconds_since_start
from ivr.store.calls import CallStore
from ivr.store.write_behind import CallRecorder
from ivr.tts.renderer import PromptRenderer
from ivr.web.access import SecurityDeps
from ivr.web.app import WebDeps, build_app
from ivr.web.bootstrap import ensure_users, generated_passwords
from ivr.web.flows import FlowWebDeps, add_flow_routes
from ivr.web.login import add_login_routes
from ivr.web.metrics import MetricsDeps, add_metrics_routes
from ivr.web.openapi import add_openapi_routes
from ivr.web.pages import add_page_routes
from ivr.web.passwords import WeakPasswordError
from ivr.web.recordings import RecordingWebDeps, add_recording_routes
from ivr.web.wallboard import WallboardDeps, add_wallboard_routes

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The controller cannot start; the message says what to fix."""


@dataclass(frozen=True)
class MediaPaths:
    """Where prompt files go on this host, and how Asterisk names them."""

    sounds_dir: Path
    media_uri: Callable[[Path], str]
    recording_spool: Path  # where Asterisk leaves recordings (host path)
    cdr_csv: Path | None = None  # Asterisk's Master.csv (host path): fallback calls are imported from it


async def check_ari(ari: AriClient, url: str, user: str, *, wait_s: float) -> dict[str, Any]:
    """``GET /asterisk/info`` until it answers or ``wait_s`` passes; a one-line error otherwise."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        try:
            return await ari.asterisk.info()
        except AriAuthError as exc:
            raise StartupError(
                f"ARI at {url} rejected user '{user}' ({exc.status}): set IVR_ARI_USER/IVR_ARI_PASSWORD "
                "to an ari.conf user (ivr up writes its generated password to var/secrets.json)"
            ) from exc
        except AriConnectionError as exc:
            if asyncio.get_running_loop().time() >= deadline:
                raise StartupError(
                    f"cannot reach ARI at {url}: is Asterisk running with http.conf enabled? "
                    f"(set IVR_ARI_URL) — {exc}"
                ) from exc
        except AriError as exc:
            raise StartupError(f"ARI at {url} answered with an error: {exc}") from exc
        await asyncio.sleep(0.5)


class Controller:
    def __init__(self, settings: Settings, *, ari_password: str, admin_token: str, media: MediaPaths) -> None:
        self.settings = settings
        self._ari_password = ari_password
        self._admin_token = admin_token
        self._media = media
        self.stats = LatencyStats()
        self.ready = asyncio.Event()
        self.banner_lines: list[str] = []
        """What a person starting the system needs next (how to register an operator's phone)."""
        self.banner_secrets: list[str] = []
        """Secrets inside ``banner_lines``: hidden when the banner does not go to a terminal (a log file)."""
        self._stream: EventStream | None = None
        self._manager: CallManager | None = None

    async def drain(self, limit_s: float) -> bool:
        """Take no new calls (they get the dialplan fallback) and wait until the calls in progress
        have ended, at most ``limit_s``. True when drained; False at the limit (the calls left are
        then detached on stop: Asterisk keeps them for the next controller)."""
        manager = self._manager
        if manager is None:
            return True
        manager.draining = True
        log.info(
            "draining: no new calls (dialplan fallback); %d in progress, up to %.0f s",
            manager.active,
            limit_s,
        )
        drained = await manager.wait_idle(limit_s)
        if drained:
            log.info("drained: no call left")
        else:
            log.warning(
                "drain limit reached: %d calls left to Asterisk for the next controller", manager.active
            )
        return drained

    def flow_dirs(self) -> list[Path]:
        return [SHIPPED_DIR, self.settings.site_flows_dir]

    async def run(self) -> None:
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            s.site_flows_dir.mkdir(parents=True, exist_ok=True)  # the flow editor publishes here
        except OSError as exc:
            raise StartupError(f"cannot create the site flows directory {s.site_flows_dir}: {exc}") from exc
        ari = AriClient(s.ari_url, s.ari_user, self._ari_password, s.ari_app)
        store = CallStore(s.db_url, ring_cycle_s=s.ring_cycle_s)
        http = aiohttp.ClientSession()
        runner: web.AppRunner | None = None
        tasks: list[asyncio.Task[Any]] = []
        try:
            await check_ari(ari, s.ari_url, s.ari_user, wait_s=s.ari_wait_s)
            try:
                await store.open()
            except Exception as exc:
                raise StartupError(f"database {s.db_url} is unusable: {exc} (set IVR_DB_URL)") from exc
            acd_files = AcdFiles.in_data_dir(s.agents_file, s.queues_file, s.data_dir)
            acd_config, acd_errors = load_config(acd_files)
            if acd_config is None:
                raise StartupError(
                    "ACD configuration rejected (fix the file, `ivr acd check` lists the errors):\n  "
                    + "\n  ".join(acd_errors)
                )
            try:
                user_lines = await ensure_users(
                    store, s.data_dir, s.admin_password, [agent.id for agent in acd_config.agents]
                )
            except WeakPasswordError as exc:
                raise StartupError(str(exc)) from exc
            registry = FlowRegistry(
                self.flow_dirs(),
                default_flow=s.default_flow,
                queues=acd_config.queue_names(),
                departments=acd_config.department_extensions(),
            )
            for error in registry.errors():
                log.error("flow error: %s", error)
            try:
                registry.get(s.default_flow)
            except UnknownFlow as exc:
                raise StartupError(
                    f"default flow '{s.default_flow}' is not loaded (set IVR_DEFAULT_FLOW); "
                    f"loaded: {', '.join(registry.names()) or 'none'}"
                ) from exc
            recorder = CallRecorder(store, linger_s=s.store_linger_s)
            legs = LegRegistry()
            renderer = PromptRenderer.from_env(self._media.sounds_dir, self._media.media_uri)
            try:
                speech = SpeechService(ari=ari, app=s.ari_app, config=AsrConfig.from_env(), legs=legs)
            except AsrConfigError as exc:
                raise StartupError(str(exc)) from exc
            # speech.start() (the recognisers' models) waits until the calls are adopted: see on_connect
            cluster = AcdCluster.for_db_url(s.db_url, s.node)  # PostgreSQL: one ACD across nodes
            if cluster is not None:
                cluster.identity = _node_identity(s, lambda: None)
            acd = AcdRuntime(
                cluster=cluster,
                files=acd_files,
                ari=ari,
                legs=legs,
                submit=recorder.submit,
                settings=AcdSettings(
                    ring_cycle_s=s.ring_cycle_s,
                    auto_login_on_register=s.auto_login,
                    outbound_dial=s.outbound_dial,
                    agent_dial=s.agent_dial,
                    first_offer_number=time.time_ns() // 1_000_000,  # unique per process (Distributor)
                ),
            )
            try:
                acd_service = await acd.start(store)
            except AcdConfigError as exc:
                raise StartupError(str(exc)) from exc
            self.banner_lines = phone_banner(acd_config, s.sip_port, s.auto_login) + user_lines
            self.banner_secrets = [a.secret for a in acd_config.agents if a.secret] + generated_passwords(
                s.data_dir
            )
            deps = SessionDeps(
                ari=ari,
                recorder=recorder,
                renderer=renderer,
                http=http,
                stats=self.stats,
                site_vars=s.site_vars,
                speech=speech,
                voicemail=VoicemailFiler(self._media.recording_spool, s.recordings_dir),
                legs=legs,
                queue=acd_service,
            )
            manager = CallManager(
                app=s.ari_app, flows=registry, deps=deps, find_open_call=store.find_open_call_by_channel
            )
            self._manager = manager
            assert acd.features is not None
            manager.stasis_handlers["feature"] = acd.features.on_stasis_start
            manager.channelless_handlers.append(acd.on_channelless_event)
            manager.on_resync.append(acd.on_connected)
            acd.on_reconfigured.append(
                lambda cfg: registry.set_environment(cfg.queue_names(), cfg.department_extensions())
            )
            manager.before_adopt.append(acd.reconcile)
            recovery = CallRecovery(  # wiring: records left open by a crash, fallback calls
                store=store,
                recorder=recorder,
                asterisk_info=ari.asterisk.info,
                known_calls=manager.call_ids,
                queue=acd_service,
                cdr=CdrTail(self._media.cdr_csv, s.data_dir / "cdr-import.json")
                if self._media.cdr_csv is not None
                else None,
                flows=registry,
            )
            manager.before_adopt.insert(0, recovery.before_adopt)
            if cluster is not None:  # a gone node's open records are closed by the survivor that claims it
                cluster.identity = _node_identity(s, lambda: recovery.asterisk)
                gone = NodeGoneRecovery(store=store, recorder=recorder, flows=registry)
                cluster.on_node_gone.append(lambda n: gone.close_calls(n.node, n.system_name, n.refreshed_at))
            manager.gone_cause = recovery.gone_cause
            manager.on_resync.append(recovery.on_resync)
            manager.orphan_leg_handlers.append(acd.on_orphan_leg)
            recording = RecordingFeatures.attach(
                ari=ari,
                legs=legs,
                service=acd_service,
                spool=self._media.recording_spool,
                recordings_dir=s.recordings_dir,
                submit=recorder.submit,
            )
            manager.channelless_handlers.append(recording.recorder.on_event)

            async def report(since: datetime | None, until: datetime | None) -> dict[str, Any]:
                return await report_for(
                    store,
                    since=since,
                    until=until,
                    ring_cycle_s=s.ring_cycle_s,
                    target_rings=s.answer_target_rings,
                    short_abandon_s=s.short_abandon_s,
                    now=datetime.now(UTC),
                )

            standard = ServiceStandard(s.ring_cycle_s, s.answer_target_rings, s.short_abandon_s)
            warm_up: list[asyncio.Task[None]] = []

            async def on_connect() -> None:
                """Adopt the calls first; the first time, then warm speech and prompts up behind them."""
                await manager.resync()
                if not warm_up:
                    log.info(ready_line(manager.active, seconds_since_start(), time.process_time()))
                    warm_up.append(
                        asyncio.create_task(_warm_up(speech, registry, renderer, s.site_vars), name="warm-up")
                    )

            self._stream = stream = EventStream(ari, on_connect=on_connect)

            runner = await _start_web(
                s,
                WebDeps(
                    store=store,
                    admin_token=self._admin_token,
                    ari_connected=lambda: stream.connected,
                    flow_status=lambda: {
                        "flows": registry.describe(),
                        "errors": [e.as_dict() for e in registry.errors()],
                    },
                    controller_stats=self.stats.snapshot,
                ),
                extra_routes=[
                    lambda app: add_acd_routes(
                        app,
                        AcdWebDeps(
                            service=acd_service,
                            get_call=store.get_call,
                            report=report,
                            config_status=acd.status,
                            edit_agent=acd.edit_agent,
                        ),
                    ),
                    add_page_routes,
                    lambda app: add_login_routes(  # wiring: security
                        app,
                        SecurityDeps(
                            store=store,
                            call_of_agent=lambda agent_id: (
                                c.request.call_id if (c := acd_service.callers.for_agent(agent_id)) else None
                            ),
                            cookie_secure=s.cookie_secure,
                        ),
                    ),
                    lambda app: add_wallboard_routes(  # wiring: wallboard
                        app,
                        WallboardDeps.of(
                            AcdWallboard(acd_service, report, manager.live_calls, manager.on_calls_changed)
                        ),
                    ),
                    lambda app: add_report_routes(
                        app,
                        ReportWebDeps(
                            store=store,
                            ring_cycle_s=s.ring_cycle_s,
                            target_rings=s.answer_target_rings,
                            short_abandon_s=s.short_abandon_s,
                        ),
                    ),
                    lambda app: add_flow_routes(
                        app, FlowWebDeps(flows=SiteFlows(registry, s.site_flows_dir), store=store)
                    ),
                    lambda app: add_recording_routes(
                        app,
                        RecordingWebDeps(
                            set_paused=recording.set_paused,
                            listen=recording.listen,
                            recording_file=store.recording_file,
                            recordings_dir=s.recordings_dir,
                        ),
                    ),
                    lambda app: add_metrics_routes(  # wiring: metrics and openapi
                        app,
                        MetricsDeps(
                            controller=self.stats,
                            queues=lambda: acd_service.distributor.queue_snapshot(datetime.now(UTC)),
                            agent_states=lambda: [row["state"] for row in acd_service.agent_rows()],
                            agent_state_names=[str(state) for state in AgentState],
                            today=lambda: read_today(store, standard, datetime.now(UTC)),
                            speech=speech,
                            recorder=recorder,
                            ring_cycle_s=s.ring_cycle_s,
                        ),
                    ),
                    add_openapi_routes,
                ],
            )

            tasks.append(asyncio.create_task(recorder.run(), name="recorder"))
            tasks.append(asyncio.create_task(registry.watch(), name="flows-watch"))
            tasks.append(asyncio.create_task(acd.watch(), name="acd-watch"))
            tasks.append(
                asyncio.create_task(
                    run_retention(store, s.recordings_dir, s.recording_retention_days), name="retention"
                )
            )

            def prewarm_reloaded() -> None:
                """Only new or changed prompts are synthesised: the others are in the cache already."""
                tasks[:] = [task for task in tasks if not task.done()]
                tasks.append(asyncio.create_task(_prewarm(registry, renderer, s.site_vars), name="prewarm"))

            registry.on_reloaded.append(prewarm_reloaded)
            log.info(
                "controller listening on http://%s:%d (ARI %s, app %s)",
                s.http_host,
                s.http_port,
                s.ari_url,
                s.ari_app,
            )
            self.ready.set()
            try:
                async for event in stream:
                    manager.dispatch(event)
            except AriAuthError as exc:
                raise StartupError(
                    f"ARI at {s.ari_url} now rejects user '{s.ari_user}' ({exc.status}): "
                    "were the ARI credentials changed? (IVR_ARI_USER/IVR_ARI_PASSWORD)"
                ) from exc
            finally:
                for task in warm_up:
                    task.cancel()
                await asyncio.gather(*warm_up, return_exceptions=True)
                await manager.shutdown()
                await recovery.close()
                await recording.close()
                await acd.close()
                await speech.close()
                await renderer.aclose()
                await recorder.close()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._stream is not None:
                await self._stream.close()
            if runner is not None:
                await runner.cleanup()
            await http.close()
            await ari.close()
            await store.close()


def _node_identity(
    s: Settings, facts: Callable[[], AsteriskFacts | None]
) -> Callable[[], tuple[str | None, str | None]]:
    """What this node's cluster heartbeat says of its Asterisk: the system name its channel ids carry
    (as ARI reported it, else the configured instance name) and where its SIP answers."""
    host = urlsplit(s.ari_url).hostname or "127.0.0.1"

    def identity() -> tuple[str | None, str | None]:
        known = facts()
        name = known.system_name if known is not None and known.system_name else s.pbx_name
        return name, f"{host}:{s.sip_port}"

    return identity


def ready_line(adopted: int, since_start_s: float, cpu_s: float) -> str:
    """The one line a restart is timed by (tests and the kill loop read it): wall time since the process
    started, and the CPU time it used meanwhile (what the wall time would be on an idle machine, give or
    take Asterisk's answers)."""
    return f"ready: adopted {adopted} calls in {since_start_s:.2f} s since process start (cpu {cpu_s:.2f} s)"


async def _warm_up(
    speech: SpeechService, registry: FlowRegistry, renderer: PromptRenderer, site_vars: dict[str, str]
) -> None:
    """After adoption: load the recognisers (a speech menu reached before then takes keys only), then
    synthesise the static prompts (a prompt needed before then is rendered on demand)."""
    await speech.start()
    await _prewarm(registry, renderer, site_vars)


async def _prewarm(registry: FlowRegistry, renderer: PromptRenderer, site_vars: dict[str, str]) -> None:
    """Synthesise the flows' static prompts in the background, so first callers do not wait for TTS."""
    prompts = [p for name in registry.names() for p in static_prompts(registry.get(name), site_vars)]
    await renderer.prewarm(prompts)
    log.info("prompts ready: %d static prompts synthesised or cached", len(prompts))


async def _start_web(
    settings: Settings, deps: WebDeps, *, extra_routes: list[Callable[[web.Application], None]]
) -> web.AppRunner:
    """The API, pages, health check and demo order service on the configured address."""
    app = build_app(deps)
    for add_routes in extra_routes:
        add_routes(app)
    add_demo_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(
            f"cannot listen on http://{settings.http_host}:{settings.http_port}: {exc.strerror} "
            "(set IVR_HTTP_PORT)"
        ) from exc
    return runner
