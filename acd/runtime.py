"""The ACD inside the controller process: configuration files (checked, hot-reloaded), operators'
phones provisioned over ARI, their registrations followed, agent states restored from the store.

``ivr/app.py`` builds one ``AcdRuntime`` and connects it to the call manager (queue port, leg owner,
feature-code calls, endpoint events) and to the web API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acd.agents import AgentState, AgentStatus
from acd.config import DEFAULT_AGENTS_FILE, DEFAULT_QUEUES_FILE, load_acd
from acd.model import AcdConfig
from acd.phone_features import PhoneFeatures
from acd.provision import provision
from acd.service import AcdService, AcdSettings
from ivr.ari.client import AriClient
from ivr.ari.errors import AriError, AriNotFound
from ivr.ari.events import AriEvent, DeviceStateChanged, EndpointStateChange
from ivr.calls.legs import LegRegistry

log = logging.getLogger(__name__)


OFFLINE_DEVICE_STATES = frozenset({"UNAVAILABLE", "INVALID", "UNKNOWN"})


class AcdConfigError(RuntimeError):
    """The agents or queues file cannot be used at start-up; the message lists every error."""


@dataclass(frozen=True)
class AcdFiles:
    agents: Path | None
    queues: Path | None

    def paths(self) -> tuple[Path, Path]:
        return (self.agents or DEFAULT_AGENTS_FILE, self.queues or DEFAULT_QUEUES_FILE)


def load_config(files: AcdFiles) -> tuple[AcdConfig | None, list[str]]:
    config, errors = load_acd(files.agents, files.queues)
    return config, [str(e) for e in errors]


def restored_statuses(rows: list[Any]) -> list[AgentStatus]:
    """The store's latest state per agent as the distributor restores it (registration is re-learnt)."""
    out = []
    for row in rows:
        try:
            state = AgentState(row.state)
        except ValueError:
            continue
        out.append(AgentStatus(row.agent, state, row.at, row.reason, row.call_id))
    return out


class AcdRuntime:
    def __init__(
        self,
        *,
        files: AcdFiles,
        ari: AriClient,
        legs: LegRegistry,
        submit: Callable[[Any], object],
        settings: AcdSettings,
    ) -> None:
        self.files = files
        self._ari = ari
        self._legs = legs
        self._submit = submit
        self._settings = settings
        self.service: AcdService | None = None
        self.features: PhoneFeatures | None = None
        self.errors: list[str] = []
        self._stamp: tuple[float, float] = (0.0, 0.0)

    async def start(self, store: Any) -> AcdService:
        config, errors = load_config(self.files)
        if config is None:
            raise AcdConfigError("ACD configuration rejected:\n  " + "\n  ".join(errors))
        self._stamp = self._mtimes()
        try:
            rows = await store.latest_agent_states()
        except Exception as exc:  # a dead database must not stop the ACD: everyone starts logged out
            log.warning("agent states not restored (%s); agents start logged out", exc)
            rows = []
        service = AcdService(
            config=config,
            ari=self._ari,
            legs=self._legs,
            submit=self._submit,
            settings=self._settings,
            restored=restored_statuses(rows),
        )
        self.service = service
        self.features = PhoneFeatures(self._ari, service)
        await self._provision(config, removed=())
        service.start()
        return service

    async def on_connected(self, app_channel_ids: set[str]) -> None:
        """After every (re)connection of the events WebSocket (the app exists only then): follow the
        phones' registrations and learn who is registered now."""
        await self._follow_devices()
        await self.learn_registrations()

    async def _follow_devices(self) -> None:
        """Subscribe to each operator phone's device state (not ``endpoint:PJSIP``, which would also
        deliver every channel event of every PJSIP channel a second time)."""
        if self.service is None:
            return
        sources = ",".join(f"deviceState:PJSIP/{a.id}" for a in self.service.distributor.config.agents)
        if not sources:
            return
        try:
            await self._ari.applications.subscribe(self._ari.app, sources)
        except AriError as exc:
            log.warning("phone registrations not followed (%s); agents log in by API or *21", exc)

    async def _provision(self, config: AcdConfig, removed: tuple[str, ...]) -> None:
        problems = await provision(self._ari.asterisk, config.agents, removed)
        for problem in problems:
            log.error("%s", problem)
        log.info("ACD: %d agents provisioned as PJSIP endpoints", len(config.agents) - len(problems))

    async def learn_registrations(self) -> None:
        """Ask Asterisk which operators' phones are registered now (start-up, reconnection)."""
        service = self.service
        if service is None:
            return
        for agent in service.distributor.config.agents:
            try:
                endpoint = await self._ari.endpoints.get("PJSIP", agent.id)
                online = endpoint.state == "online"
            except AriNotFound:
                online = False
            except AriError as exc:
                log.debug("registration of %s unknown: %s", agent.id, exc)
                continue
            service.registered(agent.id, online)

    def on_channelless_event(self, event: AriEvent) -> None:
        if self.service is None:
            return
        if isinstance(event, DeviceStateChanged) and event.name.startswith("PJSIP/"):
            online = event.state not in OFFLINE_DEVICE_STATES
            self.service.registered(event.name.removeprefix("PJSIP/"), online)
        elif isinstance(event, EndpointStateChange) and event.endpoint.technology == "PJSIP":
            self.service.registered(event.endpoint.resource, event.endpoint.state == "online")

    # --- hot reload ------------------------------------------------------------------------

    def _mtimes(self) -> tuple[float, float]:
        out = []
        for path in self.files.paths():
            try:
                out.append(path.stat().st_mtime)
            except OSError:
                out.append(-1.0)
        return (out[0], out[1])

    async def watch(self, interval_s: float = 0.5) -> None:
        """Reload the agents and queues files when they change. An invalid edit keeps the previous
        configuration live and is reported (``errors`` and the log); nobody is logged out."""
        while True:
            await asyncio.sleep(interval_s)
            stamp = self._mtimes()
            if stamp == self._stamp:
                continue
            self._stamp = stamp
            await self.reload()

    async def reload(self) -> bool:
        service = self.service
        if service is None:
            return False
        config, errors = load_config(self.files)
        if config is None:
            self.errors = errors
            for error in errors:
                log.error("ACD config not reloaded: %s", error)
            return False
        self.errors = []
        old = {a.id for a in service.distributor.config.agents}
        removed = tuple(sorted(old - {a.id for a in config.agents}))
        await self._provision(config, removed)
        service.reconfigure(config)
        await self._follow_devices()
        await self.learn_registrations()
        log.info("ACD config reloaded at %s", datetime.now(UTC).isoformat())
        return True

    async def close(self) -> None:
        if self.features is not None:
            await self.features.close()
        if self.service is not None:
            await self.service.close()
