"""AcdRuntime: start-up from the files, provisioning over ARI, hot reload, registrations, and taking
back the agent legs a previous controller left — against the recording ARI fake."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from acd.agents import AgentState
from acd.config import DEFAULT_AGENTS_FILE, load_acd
from acd.runtime import AcdConfigError, AcdFiles, AcdRuntime, phone_banner, restored_statuses
from acd.service import AcdService, AcdSettings
from ivr.ari.errors import AriError
from ivr.ari.events import StasisStart
from ivr.ari.models import Bridge
from ivr.calls.legs import LegRegistry
from tests.acd.builders import T0
from tests.calls.fake_ari import FakeAri, chan_json, channel, event, not_found
from tests.calls.harness import ImmediateRecorder, RecordingStore

DEMO_AGENTS = [f"210{n}" for n in range(1, 9)]


class Store:
    """The slice of the call store the runtime reads at start-up."""

    def __init__(self, rows: list[Any] | None = None, error: Exception | None = None) -> None:
        self.rows = rows or []
        self.error = error

    async def latest_agent_states(self) -> list[Any]:
        if self.error is not None:
            raise self.error
        return self.rows


class Env:
    def __init__(self, files: AcdFiles | None = None) -> None:
        self.ari = FakeAri()
        self.store = RecordingStore()
        self.runtime = AcdRuntime(
            files=files or AcdFiles(None, None),
            ari=self.ari,  # type: ignore[arg-type]
            legs=LegRegistry(),
            submit=ImmediateRecorder(self.store).submit,
            settings=AcdSettings(auto_login_on_register=True),
        )
        self.registrations: list[tuple[str, bool]] = []

    async def start(self, store: Store | None = None) -> AcdService:
        service = await self.runtime.start(store or Store())
        real = service.registered

        def registered(agent_id: str, online: bool) -> None:
            self.registrations.append((agent_id, online))
            real(agent_id, online)

        service.registered = registered  # type: ignore[method-assign]
        return service

    def provisioned(self) -> list[tuple[str, str]]:
        return [(a[1], a[2]) for a, _ in self.ari.calls_to("asterisk.put_dynamic_config")]

    def device(self, agent_id: str, state: str) -> None:
        self.runtime.on_channelless_event(
            event("DeviceStateChanged", device_state={"name": f"PJSIP/{agent_id}", "state": state})
        )

    def hangups(self) -> list[str]:
        return [a[0] for a, _ in self.ari.calls_to("channels.hangup")]


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    e = Env()
    yield e
    await e.runtime.close()


async def until(predicate: Callable[[], object], within_s: float = 1.0) -> None:
    async with asyncio.timeout(within_s):
        while not predicate():  # noqa: ASYNC110 - polling plain objects
            await asyncio.sleep(0.002)


# --- start-up -----------------------------------------------------------------------------------


async def test_start_provisions_every_shipped_agent_as_auth_aor_endpoint(env: Env) -> None:
    service = await env.start()
    assert env.provisioned() == [(kind, a) for a in DEMO_AGENTS for kind in ("auth", "aor", "endpoint")]
    [(args, _)] = [
        c for c in env.ari.calls_to("asterisk.put_dynamic_config") if c[0][1:3] == ("auth", "2101")
    ]
    assert args[0] == "res_pjsip"
    assert args[3]["password"] == "demo-2101-pw"
    assert [s.id for s in service.distributor.agents()] == DEMO_AGENTS
    assert env.runtime.service is service and env.runtime.features is not None


async def test_start_restores_agent_states_from_the_store(env: Env) -> None:
    rows = [
        SimpleNamespace(agent="2101", state="paused", at=T0, reason="lunch", call_id=None),
        SimpleNamespace(agent="2102", state="reserved", at=T0, reason=None, call_id="call-1"),
    ]
    service = await env.start(Store(rows))
    assert service.distributor.agent("2101").state == AgentState.PAUSED
    assert service.distributor.agent("2101").reason == "lunch"
    assert service.distributor.agent("2102").state == AgentState.AVAILABLE  # its offer died
    assert service.distributor.agent("2103").state == AgentState.LOGGED_OUT


async def test_a_dead_database_starts_everyone_logged_out(env: Env) -> None:
    service = await env.start(Store(error=OSError("connection refused")))
    assert {s.state for s in service.distributor.agents()} == {AgentState.LOGGED_OUT}


async def test_a_broken_file_stops_start_up_with_every_error(tmp_path: Path) -> None:
    agents = tmp_path / "agents.yaml"
    agents.write_text("agents:\n  - id: 2101\n    name: X\n", encoding="utf-8")
    e = Env(AcdFiles(agents, None))
    with pytest.raises(AcdConfigError) as caught:
        await e.runtime.start(Store())
    assert str(agents) in str(caught.value)
    assert "quote it" in str(caught.value)
    assert e.ari.log == []


async def test_an_agent_that_cannot_be_provisioned_does_not_stop_the_others(env: Env) -> None:
    env.ari.fail("asterisk.put_dynamic_config", not_found("/asterisk/config/dynamic"), once=True)
    await env.start()
    assert env.provisioned()[0] == ("auth", "2101")
    assert ("auth", "2102") in env.provisioned()
    assert ("endpoint", "2101") not in env.provisioned()


# --- hot reload ---------------------------------------------------------------------------------


async def test_reload_keeps_the_old_config_on_a_broken_file_and_applies_a_fixed_one(tmp_path: Path) -> None:
    agents = tmp_path / "agents.yaml"
    shutil.copy(DEFAULT_AGENTS_FILE, agents)
    e = Env(AcdFiles(agents, None))
    service = await e.start()
    try:
        agents.write_text("agents: [\n", encoding="utf-8")
        before = len(e.ari.log)
        assert await e.runtime.reload() is False
        assert e.runtime.errors and all(str(agents) in err for err in e.runtime.errors)
        assert e.runtime.status()["errors"] == e.runtime.errors  # what GET /api/acd shows
        assert e.runtime.status()["agents_file"] == str(agents)
        assert len(service.distributor.config.agents) == 8
        assert e.ari.log[before:] == []

        text = DEFAULT_AGENTS_FILE.read_text(encoding="utf-8")
        agents.write_text(text[: text.index('  - id: "2108"')], encoding="utf-8")
        assert await e.runtime.reload() is True
        assert e.runtime.errors == [] and e.runtime.status()["errors"] == []
        deleted = [(a[1], a[2]) for a, _ in e.ari.calls_to("asterisk.delete_dynamic_config")]
        assert deleted == [("endpoint", "2108"), ("aor", "2108"), ("auth", "2108")]
        assert [a.id for a in service.distributor.config.agents] == DEMO_AGENTS[:7]
        [(args, _)] = e.ari.calls_to("applications.subscribe")
        assert "deviceState:PJSIP/2108" not in args[1]
    finally:
        await e.runtime.close()


async def test_reload_before_start_does_nothing() -> None:
    e = Env()
    assert await e.runtime.reload() is False
    assert e.ari.log == []


# --- registrations ------------------------------------------------------------------------------


async def test_connecting_follows_every_phone_and_learns_who_is_registered(env: Env) -> None:
    service = await env.start()
    env.ari.endpoint_states["2101"] = "online"
    env.ari.endpoint_states["2102"] = "offline"
    await env.runtime.on_connected(set())
    [(args, _)] = env.ari.calls_to("applications.subscribe")
    assert args == ("ivr", ",".join(f"deviceState:PJSIP/{a}" for a in DEMO_AGENTS))
    assert ("2101", True) in env.registrations
    assert ("2102", False) in env.registrations
    assert ("2103", False) in env.registrations  # unknown endpoint: not registered
    await until(lambda: service.distributor.agent("2101").state == AgentState.AVAILABLE)
    assert service.distributor.agent("2102").state == AgentState.LOGGED_OUT


async def test_a_subscription_refused_still_learns_registrations(env: Env) -> None:
    await env.start()
    env.ari.fail("applications.subscribe", AriError(500, "POST", "/applications/ivr/subscription", "x"))
    await env.runtime.on_connected(set())
    assert len(env.registrations) == 8


async def test_only_a_phone_coming_online_counts_as_a_registration(env: Env) -> None:
    await env.start()
    await env.runtime.learn_registrations()  # every phone offline
    env.registrations.clear()
    env.device("2101", "UNAVAILABLE")
    assert env.registrations == []
    env.device("2101", "NOT_INUSE")
    assert env.registrations == [("2101", True)]
    for state in ("RINGING", "INUSE", "NOT_INUSE"):
        env.device("2101", state)
    assert env.registrations == [("2101", True)]
    env.device("2101", "UNAVAILABLE")
    assert env.registrations == [("2101", True), ("2101", False)]


async def test_an_operator_who_logged_out_stays_out_through_device_churn(env: Env) -> None:
    service = await env.start()
    env.device("2101", "UNAVAILABLE")
    env.device("2101", "NOT_INUSE")
    await until(lambda: service.distributor.agent("2101").state == AgentState.AVAILABLE)
    service.set_agent_state("2101", "logged_out", None)
    env.device("2101", "INUSE")
    env.device("2101", "NOT_INUSE")
    await asyncio.sleep(0.01)
    assert service.distributor.agent("2101").state == AgentState.LOGGED_OUT


async def test_endpoint_state_changes_of_pjsip_phones_are_registrations(env: Env) -> None:
    await env.start()
    online = {"technology": "PJSIP", "resource": "2103", "state": "online", "channel_ids": []}
    env.runtime.on_channelless_event(event("EndpointStateChange", endpoint=online))
    env.runtime.on_channelless_event(event("EndpointStateChange", endpoint={**online, "technology": "IAX2"}))
    env.runtime.on_channelless_event(
        event("DeviceStateChanged", device_state={"name": "Queue:x", "state": "x"})
    )
    assert env.registrations == [("2103", True)]


# --- after a controller restart -----------------------------------------------------------------


def left_over(ari: FakeAri, channel_id: str, name: str) -> None:
    ari.channels_by_id[channel_id] = channel(channel_id, name=name)


async def test_reconcile_takes_back_bridged_agents_and_hangs_up_the_rest(env: Env) -> None:
    service = await env.start()
    ari = env.ari
    left_over(ari, "chan-7", "PJSIP/trunk-00000007")  # a caller: never touched here
    left_over(ari, "leg-call-7-o2", "PJSIP/2102-00000002")  # talking with chan-7
    ari.bridges_by_id["leg-call-7-bridge"] = Bridge("leg-call-7-bridge", channels=("chan-7", "leg-call-7-o2"))
    left_over(ari, "leg-call-9-o1", "PJSIP/2101-00000001")  # was ringing; not in the app any more
    left_over(ari, "leg-call-8-o1", "PJSIP/2103-00000003")  # in the app, but its bridge is gone
    left_over(ari, "leg-call-6-o1", "PJSIP/2104-00000004")  # alone in its bridge: the caller left
    ari.bridges_by_id["leg-call-6-bridge"] = Bridge("leg-call-6-bridge", channels=("leg-call-6-o1",))
    left_over(ari, "leg-call-5-o1-customer", "PJSIP/trunk-00000005")  # a callback's customer
    left_over(ari, "leg-call-3-transfer1", "PJSIP/2001-00000006")  # a caller's own leg, not the ACD's
    in_app = {"chan-7", "leg-call-7-o2", "leg-call-8-o1", "leg-call-6-o1", "leg-call-3-transfer1"}

    await env.runtime.reconcile(in_app)

    assert sorted(env.hangups()) == [
        "leg-call-5-o1-customer",
        "leg-call-6-o1",
        "leg-call-8-o1",
        "leg-call-9-o1",
    ]
    assert service.dispatcher.restored == {"call-7": ("2102", "call-7-o2")}
    assert "leg-call-7-o2" in service.dispatcher.by_channel


async def test_an_operator_who_left_while_no_controller_ran_ends_the_conversation(env: Env) -> None:
    from datetime import UTC, datetime

    from ivr.calls.ports import QueueRequest
    from ivr.flows.events import QueueDone

    service = await env.start()
    left_over(env.ari, "chan-5", "PJSIP/trunk-00000005")  # the caller, alone in the bridge
    env.ari.bridges_by_id["leg-call-5-bridge"] = Bridge("leg-call-5-bridge", channels=("chan-5",))
    env.ari.bridges_by_id["leg-call-4-xfer1-bridge"] = Bridge("leg-call-4-xfer1-bridge", channels=("c4",))
    env.ari.bridges_by_id["leg-call-3-dept1-bridge"] = Bridge("leg-call-3-dept1-bridge", channels=("c3",))
    await env.runtime.reconcile({"chan-5", "c4", "c3"})
    assert service.dispatcher.ended_while_away == {"call-5"}
    # not a transfer's bridge, nor a department's (the caller talks with the warehouse)
    assert env.ari.calls_to("bridges.destroy") == [(("leg-call-5-bridge",), {})]
    posted: list[object] = []
    request = QueueRequest("call-5", "chan-5", "orders", 0, "en", datetime.now(UTC), 300.0)
    service.enter(request, posted.append)  # the adopted caller re-enters its queue node
    assert posted == [QueueDone("orders", "answered")]  # its flow goes on at `after`
    assert service.callers.get("call-5") is None


async def test_the_operator_a_caller_talked_with_is_named_when_its_offers_are_closed(env: Env) -> None:
    """The store remembers 2102 on call-5 (the kill may have taken the write of their answer): the offer
    is closed as answered for 2102, not cancelled for want of an answer time."""
    from datetime import UTC, datetime

    from ivr.calls.ports import QueueRequest

    rows = [SimpleNamespace(agent="2102", state="on_call", at=T0, reason=None, call_id="call-5")]
    service = await env.start(Store(rows))
    left_over(env.ari, "chan-5", "PJSIP/trunk-00000005")  # the caller, alone in the bridge
    env.ari.bridges_by_id["leg-call-5-bridge"] = Bridge("leg-call-5-bridge", channels=("chan-5",))
    await env.runtime.reconcile({"chan-5"})
    assert service.dispatcher.talked_with == {"call-5": "2102"}
    request = QueueRequest("call-5", "chan-5", "orders", 0, "en", datetime.now(UTC), 300.0)
    service.enter(request, lambda _event: None)
    [(args, kwargs)] = env.store.named("close_open_offers")
    assert (args[0], args[2], kwargs) == ("call-5", "answered", {"answered_by": "2102"})
    assert service.dispatcher.talked_with == {}


async def test_a_conversation_marked_on_the_callers_channel_is_over_after_the_restart(env: Env) -> None:
    """The kill took the store's writes of the conversation's end and the caller's next node: the caller
    comes back at its queue node, not in a bridge. The mark on its channel says the conversation is over:
    its operator is freed, its offer closed as answered, and the caller's flow goes on at ``after``."""
    from dataclasses import replace
    from datetime import UTC, datetime

    from acd import conversation_marker
    from acd.events import CallGone
    from ivr.calls.ports import QueueRequest
    from ivr.flows.events import QueueDone

    waited = datetime(2026, 12, 1, 1, 0, 0, 123000, tzinfo=UTC)
    rows = [SimpleNamespace(agent="2102", state="on_call", at=T0, reason=None, call_id="call-5")]
    service = await env.start(Store(rows))
    reported: list[object] = []
    real_report = service.report

    def report(event: Any) -> None:
        reported.append(event)
        real_report(event)

    service.report = report  # type: ignore[method-assign]
    value = conversation_marker.mark("call-5", "2102", waited)
    env.ari.channels_by_id["chan-5"] = replace(channel("chan-5"), channelvars={"IVR_TALKED": value})
    await env.runtime.reconcile({"chan-5"})
    assert CallGone("call-5") in reported
    [(args, kwargs)] = env.store.named("close_open_offers")
    assert (args[0], args[2], kwargs) == ("call-5", "answered", {"answered_by": "2102"})
    posted: list[object] = []
    service.enter(QueueRequest("call-5", "chan-5", "orders", 0, "en", waited, 300.0), posted.append)
    assert posted == [QueueDone("orders", "answered", agent="2102")]
    assert service.callers.get("call-5") is None


async def test_the_mark_names_the_operator_who_left_while_away_when_the_store_lost_it(env: Env) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from acd import conversation_marker

    service = await env.start()  # the store remembers no operator on call-5 (the writes were lost)
    value = conversation_marker.mark("call-5", "2103", datetime.now(UTC))
    env.ari.channels_by_id["chan-5"] = replace(channel("chan-5"), channelvars={"IVR_TALKED": value})
    env.ari.bridges_by_id["leg-call-5-bridge"] = Bridge("leg-call-5-bridge", channels=("chan-5",))
    await env.runtime.reconcile({"chan-5"})
    assert service.dispatcher.ended_while_away == {"call-5"}
    assert service.dispatcher.talked_with == {"call-5": "2103"}


async def test_a_mark_from_an_earlier_wait_does_not_end_the_callers_new_wait(env: Env) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from acd import conversation_marker
    from ivr.calls.ports import QueueRequest

    earlier = datetime(2026, 12, 1, 1, 0, 0, tzinfo=UTC)
    service = await env.start()
    value = conversation_marker.mark("call-5", "2102", earlier)
    env.ari.channels_by_id["chan-5"] = replace(channel("chan-5"), channelvars={"IVR_TALKED": value})
    await env.runtime.reconcile({"chan-5"})
    posted: list[object] = []
    again = QueueRequest("call-5", "chan-5", "orders", 0, "en", earlier + timedelta(minutes=3), 300.0)
    service.enter(again, posted.append)
    assert posted == []  # waiting again
    assert service.callers.get("call-5") is not None
    assert service.dispatcher.ended_while_away == set()


async def test_a_mark_on_a_channel_not_in_the_app_or_on_a_leg_is_ignored(env: Env) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from acd import conversation_marker

    service = await env.start()
    value = conversation_marker.mark("call-5", "2102", datetime.now(UTC))
    env.ari.channels_by_id["chan-5"] = replace(channel("chan-5"), channelvars={"IVR_TALKED": value})
    leg = replace(channel("leg-call-6-o1", name="PJSIP/2101-1"), channelvars={"IVR_TALKED": value})
    env.ari.channels_by_id["leg-call-6-o1"] = leg
    await env.runtime.reconcile({"leg-call-6-o1"})
    assert service.dispatcher.ended_while_away == set()


async def test_reconcile_leaves_the_legs_of_this_controller_alone(env: Env) -> None:
    service = await env.start()
    service.dispatcher.restore_conversation(
        call_id="call-4", offer_id="call-4-o1", agent_id="2101", leg_id="leg-call-4-o1"
    )
    left_over(env.ari, "leg-call-4-o1", "PJSIP/2101-00000009")
    await env.runtime.reconcile(set())
    assert env.hangups() == []


async def test_operators_restored_busy_with_calls_not_taken_back_are_freed_at_the_first_reconcile(
    env: Env,
) -> None:
    """SIGKILL while 2101 had answered but was not yet bridged and 2102's offer rang: both are free and
    the calls' open offers closed; 2103, still bridged with its caller, keeps talking."""
    rows = [
        SimpleNamespace(agent="2101", state="on_call", at=T0, reason=None, call_id="call-1"),
        SimpleNamespace(agent="2102", state="reserved", at=T0, reason=None, call_id="call-2"),
        SimpleNamespace(agent="2103", state="on_call", at=T0, reason=None, call_id="call-3"),
    ]
    service = await env.start(Store(rows))
    assert service.distributor.agent("2101").state == AgentState.ON_CALL
    left_over(env.ari, "chan-3", "PJSIP/trunk-00000003")
    left_over(env.ari, "leg-call-3-o1", "PJSIP/2103-00000001")
    env.ari.bridges_by_id["leg-call-3-bridge"] = Bridge(
        "leg-call-3-bridge", channels=("chan-3", "leg-call-3-o1")
    )
    await env.runtime.reconcile({"chan-3", "leg-call-3-o1"})
    await until(lambda: service.distributor.agent("2101").state == AgentState.AVAILABLE)
    assert service.distributor.agent("2102").state == AgentState.AVAILABLE
    assert service.distributor.agent("2103").state == AgentState.ON_CALL
    assert sorted(args[0] for args, _ in env.store.named("close_open_offers")) == ["call-1", "call-2"]
    await env.runtime.reconcile({"chan-3", "leg-call-3-o1"})  # a later reconnection: settled already
    assert len(env.store.named("close_open_offers")) == 2


async def test_offers_of_a_caller_gone_with_its_operator_are_left_to_the_record_recovery(env: Env) -> None:
    """2101 answered call-1 and its leg is still there, not bridged: never put through, closed as failed
    whatever became of the caller. 2102's leg and call-2's caller are both gone: most likely they talked
    and the kill took the conversation's end, so its offers are closed only if the caller is still
    there (``if_caller_in``); otherwise the recovery of records left open closes them with the call."""
    rows = [
        SimpleNamespace(agent="2101", state="on_call", at=T0, reason=None, call_id="call-1"),
        SimpleNamespace(agent="2102", state="on_call", at=T0, reason=None, call_id="call-2"),
    ]
    await env.start(Store(rows))
    left_over(env.ari, "leg-call-1-o1", "PJSIP/2101-00000001")
    await env.runtime.reconcile({"chan-9", "leg-call-1-o1"})
    closes = {args[0]: (args[2], kwargs) for args, kwargs in env.store.named("close_open_offers")}
    assert closes == {
        "call-1": ("failed:controller restarted", {"if_caller_in": None}),
        "call-2": ("failed:controller restarted", {"if_caller_in": frozenset({"chan-9", "leg-call-1-o1"})}),
    }


async def test_a_bridge_the_operator_never_joined_is_not_a_conversation_that_ended(env: Env) -> None:
    """Killed between the answer and the bridge: the operator's leg is still there (hung up now) and the
    caller sits alone in the bridge, or the bridge is empty. Nobody talked: the caller waits again,
    rather than being told the conversation is over (goodbye without an operator)."""
    service = await env.start()
    left_over(env.ari, "chan-5", "PJSIP/trunk-00000005")
    left_over(env.ari, "leg-call-5-o1", "PJSIP/2101-00000001")  # answered, in the app, not bridged
    env.ari.bridges_by_id["leg-call-5-bridge"] = Bridge("leg-call-5-bridge", channels=("chan-5",))
    env.ari.bridges_by_id["leg-call-6-bridge"] = Bridge("leg-call-6-bridge", channels=())
    await env.runtime.reconcile({"chan-5", "leg-call-5-o1"})
    assert service.dispatcher.ended_while_away == set()
    assert env.hangups() == ["leg-call-5-o1"]
    destroyed = sorted(args[0] for args, _ in env.ari.calls_to("bridges.destroy"))
    assert destroyed == ["leg-call-5-bridge", "leg-call-6-bridge"]


async def test_reconcile_with_channels_unreadable_does_nothing(env: Env) -> None:
    await env.start()
    env.ari.fail("channels.list", AriError(500, "GET", "/channels", "x"))
    await env.runtime.reconcile(set())
    assert env.hangups() == []


async def test_an_agent_answering_a_dead_controllers_offer_is_hung_up(env: Env) -> None:
    await env.start()
    for channel_id, arg in (("leg-call-2-o1", "leg:agent:call-2"), ("leg-call-2-x", "leg:transfer:1")):
        start = event("StasisStart", channel=chan_json(channel_id), args=[arg])
        assert isinstance(start, StasisStart)
        env.runtime.on_orphan_leg(start)
    await until(lambda: env.hangups())
    await asyncio.sleep(0.005)
    assert env.hangups() == ["leg-call-2-o1"]


# --- pure helpers -------------------------------------------------------------------------------


def test_phone_banner_shows_how_to_register_two_phones_and_the_codes() -> None:
    config, errors = load_acd(None, None)
    assert config is not None, errors
    lines = phone_banner(config, 5062, auto_login=True)
    assert lines[0].startswith("ACD       8 operators, queues: complaints, inquiries, operator")
    assert "user 2101  password demo-2101-pw" in lines[1] and "127.0.0.1:5062" in lines[1]
    assert "user 2102" in lines[2]
    assert "6 more" in lines[3]
    assert "registering logs the operator in" in lines[4]
    assert "dial *21 to log in" in phone_banner(config, 5062, auto_login=False)[-1]


def test_phone_banner_of_one_operator_has_no_more_line() -> None:
    config, _ = load_acd(None, None)
    assert config is not None
    small = type(config)(config.agents[:1], config.queues, config.departments)
    lines = phone_banner(small, 5060, auto_login=True)
    assert len(lines) == 3
    assert "1 operator," in lines[0]


def test_restored_statuses_skip_unknown_states() -> None:
    rows = [
        SimpleNamespace(agent="2101", state="wrap_up", at=T0, reason=None, call_id="call-1"),
        SimpleNamespace(agent="2102", state="on_break", at=T0, reason=None, call_id=None),
    ]
    [status] = restored_statuses(rows)
    assert (status.id, status.state, status.since, status.current_call) == (
        "2101",
        AgentState.WRAP_UP,
        T0,
        "call-1",
    )
    assert status.registered is False


async def test_an_operator_whose_leg_asterisk_lost_is_offered_the_next_call(env: Env) -> None:
    """Asterisk restarted while 2101 talked with call-1: no ChannelDestroyed ever comes for that leg.
    The reconcile at the reconnection ends it, so 2101 is not held "reserved elsewhere" for good."""
    from datetime import UTC, datetime

    from ivr.calls.ports import QueueRequest

    service = await env.start()
    service.registered("2101", True)  # auto-login: the only operator available
    posted: list[object] = []

    def queue(call_id: str) -> None:
        request = QueueRequest(call_id, f"chan-{call_id}", "orders", 0, "en", datetime.now(UTC), 300.0)
        service.enter(request, posted.append)

    queue("call-1")
    await until(lambda: "leg-call-1-o1" in service.dispatcher.by_channel)
    service.on_leg_event(event("StasisStart", channel=chan_json("leg-call-1-o1"), args=["leg:agent:call-1"]))
    await until(lambda: "call-1" in service.dispatcher.conversations)  # talking
    env.ari.channels_by_id.clear()  # Asterisk restarted: the leg is gone, nothing said so
    await env.runtime.reconcile(set())
    await env.runtime.on_connected(set())  # the resync's end: offers again once callers are back
    service.leave("call-1", "Asterisk restarted")
    await until(lambda: service.distributor.agent("2101").state == AgentState.WRAP_UP)
    service.set_agent_state("2101", "available", None)  # ends the wrap-up (*25)

    queue("call-2")
    await until(lambda: "leg-call-2-o1" in service.dispatcher.by_channel, within_s=3.0)
    assert [k["channel_id"] for _, k in env.ari.calls_to("channels.originate")] == [
        "leg-call-1-o1",
        "leg-call-2-o1",
    ]
