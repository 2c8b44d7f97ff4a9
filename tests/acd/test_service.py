"""AcdService: the queue port, agent requests and the one ordered task, driven with the recording ARI fake
and an injected clock (no Asterisk, no real waiting)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from acd.agents import AgentState, AgentStatus, TransitionNotAllowed
from acd.distributor import UnknownAgent, UnknownCall, UnknownQueue
from acd.events import Tick
from acd.service import AcdService, AcdSettings
from ivr.calls.legs import LegRegistry
from ivr.calls.ports import QueueRequest
from ivr.flows import events as fe
from tests.acd.builders import T0, agent, config, queue
from tests.calls.fake_ari import FakeAri, chan_json, event
from tests.calls.harness import ImmediateRecorder, RecordingStore

LEG = "leg-call-1-o1"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Env:
    def __init__(self) -> None:
        self.ari = FakeAri()
        self.store = RecordingStore()
        self.clock = Clock(T0)
        self.legs = LegRegistry()
        self.posts: list[fe.Event] = []
        self.changes: list[AgentStatus] = []
        self.service = AcdService(
            config=config(
                [agent("2101", {"orders": 3}), agent("2102", {"returns": 3})],
                [queue("orders", ring_timeout_s=15.0, wrapup_s=10.0), queue("returns")],
            ),
            ari=self.ari,
            legs=self.legs,
            submit=ImmediateRecorder(self.store).submit,
            settings=AcdSettings(),
            clock=self.clock,
        )
        self.service.listeners.append(self.changes.append)

    def request(self, call_id: str = "call-1", entered_at: datetime | None = None) -> QueueRequest:
        return QueueRequest(
            call_id=call_id,
            channel_id=f"chan-{call_id}",
            queue="orders",
            priority=0,
            lang="ja",
            entered_at=entered_at or self.clock(),
            timeout_s=300,
            caller_number="0312345678",
            caller_name="Hanako Yamada",
        )

    def enter(self, call_id: str = "call-1", entered_at: datetime | None = None) -> None:
        self.service.enter(self.request(call_id, entered_at), self.posts.append)

    def state(self, agent_id: str = "2101") -> AgentState:
        return self.service.distributor.agent(agent_id).state

    def originated(self) -> list[str]:
        return [k["channel_id"] for _, k in self.ari.calls_to("channels.originate")]

    def hangups(self) -> list[str]:
        return [a[0] for a, _ in self.ari.calls_to("channels.hangup")]

    def leg_event(self, kind: str, **body: Any) -> None:
        self.service.on_leg_event(event(kind, **body))


async def until(predicate: Callable[[], object], within_s: float = 1.0) -> None:
    async with asyncio.timeout(within_s):
        while not predicate():  # noqa: ASYNC110 - polling plain objects
            await asyncio.sleep(0.002)


async def settle() -> None:
    for _ in range(30):
        await asyncio.sleep(0)


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    e = Env()
    e.service.start()
    yield e
    await e.service.close()


async def ringing(env: Env) -> None:
    env.service.set_agent_state("2101", "available", None)
    env.enter()
    await until(lambda: env.originated() == [LEG])


# --- the queue port -----------------------------------------------------------------------------


async def test_start_records_every_agents_state() -> None:
    e = Env()
    e.service.start()
    try:
        rows = e.store.named("agent_state_changed")
        assert sorted(a[0] for a, _ in rows) == ["2101", "2102"]
        assert all(a[1] == "logged_out" for a, _ in rows)
    finally:
        await e.service.close()


async def test_a_queued_caller_rings_a_free_agent(env: Env) -> None:
    await ringing(env)
    [(args, kwargs)] = env.ari.calls_to("channels.originate")
    assert args == ("PJSIP/2101",)
    assert kwargs["app_args"] == "leg:agent:call-1"
    assert env.state() == AgentState.RESERVED
    assert LEG in env.legs


async def test_a_call_rung_answered_and_ended_is_recorded_and_bridged(env: Env) -> None:
    await ringing(env)
    env.leg_event("Dial", peer=chan_json(LEG), dialstatus="RINGING", timestamp="2026-01-05T03:00:04.000Z")
    env.leg_event("StasisStart", channel=chan_json(LEG), args=["leg:agent:call-1"])
    await until(lambda: env.ari.ops("bridges.add_channel"))
    assert env.posts == [fe.AgentConnected("orders", "2101")]
    [(started, _)] = env.store.named("offer_started")
    assert started == ("call-1", "2101", T0 + timedelta(seconds=4))
    assert len(env.store.named("offer_answered")) == 1
    assert env.state() == AgentState.ON_CALL
    env.leg_event("ChannelDestroyed", channel=chan_json(LEG), cause=16)
    await until(lambda: env.store.named("offer_ended"))
    [(ended, _)] = env.store.named("offer_ended")
    assert (ended[0], ended[1], ended[3]) == ("call-1", "2101", "answered")
    assert env.posts[-1] == fe.QueueDone("orders", "answered", agent="2101")
    assert env.state() == AgentState.WRAP_UP


async def test_nobody_logged_in_sends_the_caller_on_at_once(env: Env) -> None:
    env.enter()
    await until(lambda: env.posts)
    assert env.posts == [fe.QueueDone("orders", "no_agents")]
    assert env.service.callers.get("call-1") is None


async def test_leaving_while_an_agent_rings_cancels_the_offer(env: Env) -> None:
    await ringing(env)
    env.service.leave("call-1", "hangup")
    await until(lambda: env.hangups() == [LEG])
    await until(lambda: env.state() == AgentState.AVAILABLE)
    [(ended, _)] = env.store.named("offer_ended")
    assert ended[3] == "cancelled"
    assert env.service.callers.get("call-1") is None


async def test_a_caller_who_left_is_never_offered(env: Env) -> None:
    env.service.set_agent_state("2101", "paused", "lunch")
    env.enter()
    await settle()
    env.service.leave("call-1", "hangup")
    await settle()
    env.service.set_agent_state("2101", "available", None)
    await settle()
    assert env.originated() == []
    assert env.service.distributor.waiting() == []


async def test_leaving_with_a_callback_number_keeps_the_place_as_a_callback(env: Env) -> None:
    env.service.set_agent_state("2101", "paused", None)
    arrived = T0 - timedelta(seconds=40)
    env.enter(entered_at=arrived)
    await until(lambda: env.service.distributor.waiting("orders"))
    env.clock.advance(5)
    env.service.leave("call-1", "callback", callback_number="0312345678")
    await until(lambda: [w.kind for w in env.service.distributor.waiting("orders")] == ["callback"])
    [waiting] = env.service.distributor.waiting("orders")
    assert (waiting.call_id, waiting.entered_at) == ("call-1", arrived)
    assert env.service.callers.get("call-1") is None


async def test_a_callback_promised_outside_a_queue_waits_from_now(env: Env) -> None:
    env.service.set_agent_state("2101", "paused", None)
    env.clock.advance(30)
    env.service.request_callback("call-5", "0312345678", "orders", None)
    await until(lambda: env.service.distributor.waiting("orders"))
    [waiting] = env.service.distributor.waiting("orders")
    assert (waiting.kind, waiting.entered_at) == ("callback", T0 + timedelta(seconds=30))


async def test_a_restored_conversation_resumes_without_queueing(env: Env) -> None:
    env.service.set_agent_state("2101", "available", None)
    env.service.dispatcher.restore_conversation(
        call_id="call-1", offer_id="call-1-o1", agent_id="2101", leg_id=LEG
    )
    env.enter()
    assert env.posts == [fe.AgentConnected("orders", "2101")]
    await settle()
    assert env.service.distributor.waiting() == []
    assert env.originated() == []
    caller = env.service.callers.for_agent("2101")
    assert caller is not None and caller.request.call_id == "call-1"
    env.leg_event("ChannelDestroyed", channel=chan_json(LEG), cause=16)
    await until(lambda: env.store.named("offer_ended"))
    [(ended, _)] = env.store.named("offer_ended")
    assert (ended[0], ended[1], ended[3]) == ("call-1", "2101", "answered")
    assert env.posts[-1] == fe.QueueDone("orders", "answered", agent="2101")


# --- agents' requests ---------------------------------------------------------------------------


async def test_set_agent_state_decides_at_once_and_records_through_submit(env: Env) -> None:
    env.clock.advance(7)
    status = env.service.set_agent_state("2101", "paused", "lunch")
    assert (status.state, status.reason) == (AgentState.PAUSED, "lunch")
    await until(lambda: len(env.store.named("agent_state_changed")) == 3)
    args, _ = env.store.named("agent_state_changed")[-1]
    assert args == ("2101", "paused", "lunch", None, T0 + timedelta(seconds=7))
    assert [(s.id, s.state) for s in env.changes] == [("2101", AgentState.PAUSED)]


@pytest.mark.parametrize(
    ("agent_id", "state", "error"),
    [
        ("9999", "available", UnknownAgent),
        ("2101", "sleeping", ValueError),
        ("2101", "on_call", TransitionNotAllowed),
    ],
)
async def test_a_refused_request_raises_and_records_nothing(
    env: Env, agent_id: str, state: str, error: type[Exception]
) -> None:
    before = len(env.store.writes)
    with pytest.raises(error):
        env.service.set_agent_state(agent_id, state, None)
    await settle()
    assert len(env.store.writes) == before
    assert env.state() == AgentState.LOGGED_OUT


async def test_pausing_while_rung_is_not_allowed(env: Env) -> None:
    await ringing(env)
    with pytest.raises(TransitionNotAllowed):
        env.service.set_agent_state("2101", "paused", None)
    assert env.state() == AgentState.RESERVED


async def test_requeue_of_an_unknown_call_or_queue_raises(env: Env) -> None:
    with pytest.raises(UnknownCall):
        env.service.requeue("nobody", "orders")
    env.service.set_agent_state("2101", "paused", None)
    env.enter()
    await until(lambda: env.service.distributor.waiting("orders"))
    with pytest.raises(UnknownQueue):
        env.service.requeue("call-1", "nowhere")


async def test_requeue_of_a_talking_caller_hangs_up_the_agent_and_waits_again(env: Env) -> None:
    env.service.set_agent_state("2102", "paused", None)  # logged in: the returns queue is staffed
    await ringing(env)
    env.leg_event("StasisStart", channel=chan_json(LEG), args=["leg:agent:call-1"])
    await until(lambda: env.ari.ops("bridges.add_channel"))
    env.service.requeue("call-1", "returns")
    await until(lambda: fe.BackInQueue("returns") in env.posts)
    assert LEG in env.hangups()
    assert env.state() == AgentState.WRAP_UP
    assert [w.call_id for w in env.service.distributor.waiting("returns")] == ["call-1"]


# --- the timer ----------------------------------------------------------------------------------


async def test_the_timer_is_armed_for_the_next_deadline(env: Env) -> None:
    await ringing(env)
    timer = env.service._timer
    assert timer is not None
    delay = timer.when() - asyncio.get_running_loop().time()
    assert 14.5 < delay <= 15.01  # the ring timeout, measured on the injected clock


async def test_no_answer_within_the_ring_timeout_pauses_the_agent(env: Env) -> None:
    await ringing(env)
    env.clock.advance(16)
    env.service.set_agent_state("2102", "available", None)  # any decision re-arms the timer: now due
    await until(lambda: env.hangups() == [LEG])
    await until(lambda: env.state() == AgentState.PAUSED)
    assert env.service.distributor.agent("2101").reason == "no answer"
    [(ended, _)] = env.store.named("offer_ended")
    assert ended[3] == "no_answer"


async def test_close_stops_the_task_and_the_timer() -> None:
    e = Env()
    e.service.start()
    e.service.set_agent_state("2101", "available", None)
    e.enter()
    await until(lambda: e.originated())
    timer = e.service._timer
    await e.service.close()
    assert timer is not None and timer.cancelled()
    e.service.leave("call-1", "hangup")
    await settle()
    assert e.hangups() == []  # nobody takes the items any more


async def test_requeue_to_a_queue_nobody_staffs_sends_the_caller_on(env: Env) -> None:
    await ringing(env)
    env.leg_event("StasisStart", channel=chan_json(LEG), args=["leg:agent:call-1"])
    await until(lambda: env.ari.ops("bridges.add_channel"))
    env.service.requeue("call-1", "returns")
    await until(lambda: len(env.posts) == 3)
    assert env.posts[1:] == [fe.BackInQueue("returns"), fe.QueueDone("returns", "no_agents")]


async def test_an_agent_who_hangs_up_as_it_answers_leaves_the_caller_waiting_not_stuck(env: Env) -> None:
    """The answer and the hang-up of the agent's leg reach the ACD before it acts on the answer (a slow
    controller): the caller is not left "connected" to nobody; the offer is recorded as failed."""
    await ringing(env)
    env.leg_event("Dial", peer=chan_json(LEG), dialstatus="RINGING", timestamp="2026-01-05T03:00:04.000Z")
    await until(lambda: env.store.named("offer_started"))
    env.leg_event("StasisStart", channel=chan_json(LEG), args=["leg:agent:call-1"])
    env.leg_event("ChannelDestroyed", channel=chan_json(LEG), cause=16)
    await until(lambda: env.store.named("offer_ended"))
    [(ended, _)] = env.store.named("offer_ended")
    assert (ended[0], ended[1], ended[3]) == ("call-1", "2101", "failed:agent hung up")
    assert env.state() == AgentState.AVAILABLE
    assert env.ari.ops("bridges.") == [] and env.posts == []
    env.clock.advance(15.1)  # the agent gets the same caller again only after the ring timeout
    env.service.report(Tick())
    await until(lambda: len(env.originated()) == 2)
    assert env.originated()[1] == "leg-call-1-o2"
