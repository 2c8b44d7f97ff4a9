"""The ACD inside the controller process: configuration files (checked, hot-reloaded), operators'
phones provisioned over ARI, their registrations followed, agent states restored from the store.

``ivr/app.py`` builds one ``AcdRuntime`` and connects it to the call manager (queue port, leg owner,
feature-code calls, endpoint events) and to the web API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from acd import conversation_marker
from acd.agents import AgentState, AgentStatus
from acd.agents_source import replace_checked, seeded
from acd.cluster import AcdCluster
from acd.config import DEFAULT_AGENTS_FILE, DEFAULT_QUEUES_FILE, load_acd
from acd.events import CallGone
from acd.feature_codes import agent_of_channel
from acd.model import AcdConfig
from acd.phone_features import PhoneFeatures
from acd.provision import provision
from acd.service import AcdService, AcdSettings
from acd.skills_edit import FileRejected, SkillsEdit, with_edit
from ivr.ari.client import AriClient
from ivr.ari.errors import AriError
from ivr.ari.events import AriEvent, ChannelDestroyed, DeviceStateChanged, EndpointStateChange, StasisStart
from ivr.ari.models import Channel
from ivr.calls.legs import LEG_ARG_PREFIX, LEG_ID_PREFIX, LegRegistry
from ivr.calls.transfer_leg import LEG_KINDS

log = logging.getLogger(__name__)


OFFLINE_DEVICE_STATES = frozenset({"UNAVAILABLE", "INVALID", "UNKNOWN"})
ADOPTION_HOLD_S = 10.0
"""No offer from the start of a resync until its callers are adopted (this long at most)…"""
COMING_BACK_S = 1.0
"""…and for this long after: adopted callers who were waiting re-enter their queues as their tasks start."""


class AcdConfigError(RuntimeError):
    """The agents or queues file cannot be used at start-up; the message lists every error."""


@dataclass(frozen=True)
class AcdFiles:
    agents: Path | None
    queues: Path | None

    def paths(self) -> tuple[Path, Path]:
        return (self.agents or DEFAULT_AGENTS_FILE, self.queues or DEFAULT_QUEUES_FILE)

    @classmethod
    def in_data_dir(cls, agents: Path | None, queues: Path | None, data_dir: Path) -> AcdFiles:
        """The controller's files: the configured ones; without an agents file, a copy of the shipped
        demo agents made once in ``data_dir`` (an edit from the web never writes inside the package).
        The queues are never written, so the shipped queues file is read where it is."""
        return cls(seeded(agents, DEFAULT_AGENTS_FILE, data_dir / "agents.yaml"), queues)


def load_config(files: AcdFiles) -> tuple[AcdConfig | None, list[str]]:
    config, errors = load_acd(files.agents, files.queues)
    return config, [str(e) for e in errors]


ACD_LEG_ARGS = (f"{LEG_ARG_PREFIX}agent:", f"{LEG_ARG_PREFIX}customer:")


def phone_banner(config: AcdConfig, sip_port: int, auto_login: bool) -> list[str]:
    """How to register an operator's softphone, for the start-up banner."""
    count = f"{len(config.agents)} operator{'' if len(config.agents) == 1 else 's'}"
    lines = [f"ACD       {count}, queues: {', '.join(sorted(config.queues))}"]
    for agent in config.agents[:2]:
        skills = ", ".join(f"{k} {v}" for k, v in agent.skills.items())
        lines.append(
            f"  phone   server 127.0.0.1:{sip_port} (UDP)  user {agent.id}  password {agent.secret}"
            f"  ({agent.name}: {skills})"
        )
    if len(config.agents) > 2:
        lines.append(f"          … {len(config.agents) - 2} more in the agents file (IVR_AGENTS_FILE)")
    login = "registering logs the operator in" if auto_login else "dial *21 to log in"
    lines.append(f"  codes   {login}; *22 log out, *23 pause, *24 unpause, *25 end wrap-up")
    return lines


_TRANSFER_BRIDGE = re.compile("-(" + "|".join(LEG_KINDS.values()) + r")\d+$")


def _conversation_call(bridge_id: str) -> str | None:
    """``leg-<call id>-bridge`` (an ACD conversation) → the call id; None for any other bridge."""
    if not (bridge_id.startswith(LEG_ID_PREFIX) and bridge_id.endswith("-bridge")):
        return None
    call_id = bridge_id.removeprefix(LEG_ID_PREFIX).removesuffix("-bridge")
    if not call_id or _TRANSFER_BRIDGE.search(call_id):
        return None  # a transfer leg's own bridge (a flow's transfer, or a department's phone)
    return call_id


def _is_acd_leg(channel_id: str) -> bool:
    """``leg-<call id>-o<n>`` (an offer's agent leg) or ``…-customer`` (a callback's customer)."""
    rest = channel_id.removeprefix(LEG_ID_PREFIX)
    return rest.endswith("-customer") or rest.rpartition("-o")[2].isdigit()


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
        cluster: AcdCluster | None = None,
    ) -> None:
        self.files = files
        self.cluster = cluster
        """One ACD across nodes (PostgreSQL store): shared reservations and agent states; None: this
        node alone (in-memory reservations)."""
        self._ari = ari
        self._legs = legs
        self._submit = submit
        self._settings = settings
        self.service: AcdService | None = None
        self.features: PhoneFeatures | None = None
        self.errors: list[str] = []
        self._stamp: tuple[float, float] = (0.0, 0.0)
        self._tasks: set[asyncio.Task[None]] = set()
        self._online: dict[str, bool] = {}
        self._edit_lock = asyncio.Lock()
        self.on_reconfigured: list[Callable[[AcdConfig], object]] = []
        """Told of each configuration that went live by hot reload (the flows re-check their queues)."""
        self._restored: list[AgentStatus] = []  # the store's agent states, settled at the first reconcile

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
        cluster = self.cluster
        foreign = await cluster.open() if cluster is not None else []
        # An agent another node changed last is theirs to settle: its state comes from that node.
        self._restored = [
            s for s in restored_statuses(rows) if cluster is None or s.id not in cluster.foreign
        ]
        service = AcdService(
            config=config,
            ari=self._ari,
            legs=self._legs,
            submit=self._submit,
            settings=self._settings,
            restored=self._restored,
            reservations=cluster.reservations if cluster is not None else None,
        )
        self.service = service
        self.features = PhoneFeatures(self._ari, service)
        await self._provision(config, removed=())
        service.start()
        if cluster is not None:
            for remote in foreign:
                service.remote_agent_change(remote)
            await cluster.attach(service)
        return service

    async def reconcile(self, app_channel_ids: set[str]) -> None:
        """Before callers are adopted after a (re)connection: operators still bridged with a caller are
        taken back (the caller resumes talking), legs nobody can own any more are hung up — an offer
        that was ringing when the previous controller died is resolved by hanging it up."""
        service = self.service
        if service is None:
            return
        service.hold_offers(ADOPTION_HOLD_S)  # first come back, then served in order of arrival
        known = service.dispatcher.by_channel
        legs_before = set(known)
        try:
            channels = await self._ari.channels.list()
        except AriError as exc:
            log.warning("ACD reconcile: channels unreadable: %s", exc)
            return
        self._legs_vanished(legs_before - {channel.id for channel in channels})
        cut_short: set[str] = set()  # calls whose operator's leg is hung up here: not put through yet
        marks = _conversation_marks(channels)
        talked = {mark.call_id: mark.agent for mark in marks.values()}
        for channel in channels:
            if not channel.id.startswith(LEG_ID_PREFIX) or channel.id in known:
                continue
            if not _is_acd_leg(channel.id):
                continue
            if channel.id in app_channel_ids and await self._take_back(channel.id, channel.name, talked):
                continue
            log.info("ACD reconcile: hanging up leg %s left by a previous controller", channel.id)
            cut_short.add(channel.id.removeprefix(LEG_ID_PREFIX).rpartition("-o")[0])
            with contextlib.suppress(AriError):
                await self._ari.channels.hangup(channel.id)
        await self._conversations_ended_while_away(app_channel_ids, cut_short)
        self._conversations_marked(marks, app_channel_ids)
        self._settle_restored_agents(app_channel_ids, cut_short)

    def _legs_vanished(self, leg_ids: set[str]) -> None:
        """Legs of ours that Asterisk no longer has (it restarted, or they ended while the events
        WebSocket was down): no ``ChannelDestroyed`` will ever come for them, so the ACD is told of their
        end now, in its order — the operator's reservation is released and a conversation or offer on
        that leg ends. Without this the operator stays reserved for a dead leg: every later offer to
        them fails as "reserved elsewhere" and callers wait in line with nobody to answer."""
        service = self.service
        assert service is not None
        for leg_id in sorted(leg_ids):
            log.info("ACD reconcile: leg %s is gone from Asterisk; its end is taken as reported", leg_id)
            service.on_leg_event(
                ChannelDestroyed(
                    type="ChannelDestroyed",
                    timestamp=datetime.now(UTC),
                    channel=Channel(id=leg_id),
                    cause_txt="channel gone while the events connection was down",
                )
            )

    def _settle_restored_agents(self, app_channel_ids: set[str], cut_short: set[str]) -> None:
        """Once, at the first reconcile after start: an operator the store remembers ringing or talking
        for a call whose conversation was not taken back (the offer still rang, was answered but not yet
        bridged, or the caller left) is free again and that call's open offers are closed; the caller, if
        still there, waits again at its place in line. Without this the operator stays "on call" forever.
        A caller gone whose operator's leg had gone too most likely talked to them (the kill took the
        conversation's end): its offers are left to the recovery of records left open."""
        restored, self._restored = self._restored, []
        assert self.service is not None
        dispatcher, now = self.service.dispatcher, datetime.now(UTC)
        for status in restored:
            call_id = status.current_call
            if call_id is None or status.state not in (AgentState.ON_CALL, AgentState.RESERVED):
                continue
            if call_id in dispatcher.conversations or call_id in dispatcher.ended_while_away:
                continue
            log.info(
                "ACD reconcile: agent %s's call %s was not taken back; the agent is free", status.id, call_id
            )
            if status.state == AgentState.ON_CALL:
                self.service.report(CallGone(call_id))  # a call this process never queued: frees its agent
            live = None if call_id in cut_short else frozenset(app_channel_ids)
            self._submit(
                lambda store, c=call_id, live=live: store.close_open_offers(
                    c, now, "failed:controller restarted", if_caller_in=live
                )
            )

    async def _conversations_ended_while_away(
        self, app_channel_ids: set[str], cut_short: set[str] | None = None
    ) -> None:
        """A conversation bridge whose operator left while no controller ran: the conversation is over.
        The bridge goes; the caller, when adopted, is told so (its flow continues at ``after``)."""
        assert self.service is not None
        try:
            bridges = await self._ari.bridges.list()
        except AriError as exc:
            log.warning("ACD reconcile: bridges unreadable: %s", exc)
            return
        dispatcher = self.service.dispatcher
        for bridge in bridges:
            call_id = _conversation_call(bridge.id)
            if call_id is None or call_id in dispatcher.conversations:
                continue
            if any(_is_acd_leg(c) and c in app_channel_ids for c in bridge.channels):
                continue
            if call_id in (cut_short or set()) or all(c.startswith(LEG_ID_PREFIX) for c in bridge.channels):
                # Never a conversation: the operator's leg was still there, not bridged (killed between
                # the answer and the bridge), or the caller never joined. The caller waits again.
                log.info("ACD reconcile: call %s was not put through before the restart", call_id)
                with contextlib.suppress(AriError):
                    await self._ari.bridges.destroy(bridge.id)
                continue
            log.info("ACD reconcile: call %s's operator left while the controller was away", call_id)
            dispatcher.ended_while_away.add(call_id)
            agent = next((s.id for s in self._restored if s.current_call == call_id), None)
            if agent is not None:
                dispatcher.talked_with[call_id] = agent
            with contextlib.suppress(AriError):
                await self._ari.bridges.destroy(bridge.id)

    def _conversations_marked(
        self, marks: dict[str, conversation_marker.Talked], app_channel_ids: set[str]
    ) -> None:
        """Callers put through to an operator (the mark on their channel, ``conversation_marker``) whose
        conversation is not going on any more: it ended before the restart, and the kill may have taken
        the store's writes that say so, or the operator's leg was leaving as the controller came back.
        Each, when adopted back at its queue node, is told the conversation is over (its flow continues
        at ``after``) unless it has queued again since the mark (``AcdService.enter``). For a bridge the
        operator left while no controller ran, the mark names the operator if the store does not."""
        if self.service is None:
            return
        dispatcher, now = self.service.dispatcher, datetime.now(UTC)
        for channel_id, talked in marks.items():
            if channel_id not in app_channel_ids or channel_id.startswith(LEG_ID_PREFIX):
                continue
            if talked.call_id in dispatcher.conversations:
                continue
            if talked.call_id in dispatcher.ended_while_away:
                dispatcher.talked_with.setdefault(talked.call_id, talked.agent)
                continue
            log.info(
                "ACD reconcile: call %s's conversation with agent %s is over (marked on its channel)",
                talked.call_id,
                talked.agent,
            )
            dispatcher.ended_while_away.add(talked.call_id)
            dispatcher.talked_with[talked.call_id] = talked.agent
            dispatcher.talked_wait[talked.call_id] = talked.wait
            # Over for sure, whatever node the caller is at now: its operator is free, its offer answered.
            self.service.report(CallGone(talked.call_id))
            self._submit(
                lambda store, c=talked.call_id, a=talked.agent: store.close_open_offers(
                    c, now, "answered", answered_by=a
                )
            )

    async def _take_back(self, leg_id: str, channel_name: str, talked: dict[str, str]) -> bool:
        """``talked``: call → operator, from the conversation marks on the callers' channels. The leg's
        channel name names the operator only when Asterisk rang the phone itself (``PJSIP/2101-…``); rung
        through a proxy (``PJSIP/kamailio-…``) it names the proxy, so the mark, then the store's memory
        of who talked with the call, come first."""
        assert self.service is not None
        offer_id = leg_id.removeprefix(LEG_ID_PREFIX)
        call_id = offer_id.rpartition("-o")[0]
        agent_id = (
            talked.get(call_id)
            or next((s.id for s in self._restored if s.current_call == call_id), None)
            or agent_of_channel(channel_name)
        )
        if not call_id or agent_id is None:
            return False
        try:
            bridge = await self._ari.bridges.get(f"{LEG_ID_PREFIX}{call_id}-bridge")
        except AriError:
            return False
        if leg_id not in bridge.channels or len(bridge.channels) < 2:
            return False
        self.service.dispatcher.restore_conversation(
            call_id=call_id, offer_id=offer_id, agent_id=agent_id, leg_id=leg_id
        )
        if self.cluster is not None and not await self.cluster.reservations.try_reserve(agent_id, offer_id):
            log.warning(
                "ACD reconcile: agent %s talking on call %s is held by another node", agent_id, call_id
            )
        log.info("ACD reconcile: call %s is still talking with agent %s", call_id, agent_id)
        return True

    def on_orphan_leg(self, event: StasisStart) -> None:
        """An agent answered an offer made by a previous controller: nobody waits for it; hang up."""
        if not (
            event.args and event.args[0].startswith((f"{LEG_ARG_PREFIX}agent:", f"{LEG_ARG_PREFIX}customer:"))
        ):
            return
        task = asyncio.get_running_loop().create_task(self._hang_up(event.channel.id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _hang_up(self, channel_id: str) -> None:
        with contextlib.suppress(AriError):
            await self._ari.channels.hangup(channel_id)

    async def on_connected(self, app_channel_ids: set[str]) -> None:
        """After every (re)connection of the events WebSocket (the app exists only then): follow the
        phones' registrations and learn who is registered now."""
        if self.service is not None:
            self.service.hold_offers(COMING_BACK_S)  # the callers are adopted: offers once they are back
        await self._provision_lost_endpoints()
        await self._follow_devices()
        await self.learn_registrations()

    async def _provision_lost_endpoints(self) -> None:
        """A restarted Asterisk has lost the operators' endpoints (memory objects): create them again, so
        their phones can register and take calls. Endpoints that exist are left alone."""
        service = self.service
        if service is None:
            return
        try:
            present = {e.resource for e in await self._ari.endpoints.list("PJSIP")}
        except AriError as exc:
            log.warning("operators' endpoints not checked (%s)", exc)
            return
        missing = [a for a in service.distributor.config.agents if a.id not in present]
        if not missing:
            return
        log.warning("ACD: %d operator endpoints missing (Asterisk restarted?); provisioning", len(missing))
        for problem in await provision(self._ari.asterisk, missing):
            log.error("%s", problem)

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
        try:
            endpoints = await self._ari.endpoints.list("PJSIP")  # one request, however many operators
        except AriError as exc:
            log.warning("registrations unknown (%s); they are learnt as phones register", exc)
            return
        states = {e.resource: e.state for e in endpoints}
        for agent in service.distributor.config.agents:
            online = states.get(agent.id) == "online"  # no endpoint yet: not registered
            self._online[agent.id] = online
            service.registered(agent.id, online)

    def on_channelless_event(self, event: AriEvent) -> None:
        if self.service is None:
            return
        if isinstance(event, DeviceStateChanged) and event.name.startswith("PJSIP/"):
            agent_id = event.name.removeprefix("PJSIP/")
            online = event.state not in OFFLINE_DEVICE_STATES
            if self._online.get(agent_id) != online:  # ringing/in use/idle are not (un)registrations
                self._online[agent_id] = online
                self.service.registered(agent_id, online)
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

    def status(self) -> dict[str, Any]:
        """For ``GET /api/acd``: the files in use and why the newest edit was rejected (empty: live)."""
        agents, queues = self.files.paths()
        return {"agents_file": str(agents), "queues_file": str(queues), "errors": list(self.errors)}

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
        for hook in self.on_reconfigured:
            hook(config)
        await self._follow_devices()
        await self.learn_registrations()
        log.info("ACD config reloaded at %s", datetime.now(UTC).isoformat())
        return True

    async def edit_agent(self, agent_id: str, edit: SkillsEdit) -> None:
        """A supervisor's skills edit: written to the agents file (checked by the loader first, then
        replaced atomically) and made live through ``reload`` as if the watcher had seen it. Raises
        ``UnknownAgent`` (not in the file) or ``FileRejected`` (the loader's errors; file untouched)."""
        async with self._edit_lock:
            path, queues = self.files.agents, self.files.paths()[1]
            if path is None:
                raise FileRejected(["the shipped demo agents file is not edited here: set IVR_AGENTS_FILE"])
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise FileRejected([f"{path}: cannot read the file: {exc}"]) from exc
            new_text = with_edit(text, str(path), agent_id, edit)
            errors = replace_checked(path, new_text, lambda tmp: [str(e) for e in load_acd(tmp, queues)[1]])
            if errors:
                raise FileRejected(errors)
            log.info("ACD: agent %s's skills edited in %s", agent_id, path)
            self._stamp = self._mtimes()  # the watcher need not reload it a second time
            if not await self.reload():
                raise FileRejected(self.errors or ["the ACD is not running"])

    async def close(self) -> None:
        if self.features is not None:
            await self.features.close()
        if self.service is not None:
            await self.service.close()
        if self.cluster is not None:
            await self.cluster.close()


def _conversation_marks(channels: list[Channel]) -> dict[str, conversation_marker.Talked]:
    """Channel id → the conversation mark on it (``conversation_marker``), read once per reconcile."""
    marks = {c.id: conversation_marker.read(c.channelvars.get(conversation_marker.VAR)) for c in channels}
    return {channel_id: mark for channel_id, mark in marks.items() if mark is not None}
