"""Feature-code calls: the agent's state changes, the phone hears a confirmation, the call ends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from acd import phone_features
from acd.agents import AgentState, AgentStatus, TransitionNotAllowed
from acd.distributor import UnknownAgent
from acd.feature_codes import PAUSE_REASONS
from acd.phone_features import REFUSED, SOUNDS, PhoneFeatures
from ivr.ari.events import StasisStart
from tests.acd.builders import T0
from tests.calls.fake_ari import FakeAri, chan_json, event, not_found

CHANNEL = "1733000000.1"


class Service:
    """Records the requests; raises ``refuse`` when set."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str | None]] = []
        self.refuse: Exception | None = None

    def set_agent_state(self, agent_id: str, state: str, reason: str | None) -> AgentStatus:
        self.requests.append((agent_id, state, reason))
        if self.refuse is not None:
            raise self.refuse
        return AgentStatus(agent_id, AgentState(state), T0, reason)


class Env:
    def __init__(self) -> None:
        self.ari = FakeAri()
        self.service = Service()
        self.features = PhoneFeatures(self.ari, self.service)  # type: ignore[arg-type]

    def dial(self, code: str, name: str = "PJSIP/2101-00000001") -> None:
        start = event("StasisStart", channel=chan_json(CHANNEL, name=name), args=["feature", code])
        assert isinstance(start, StasisStart)
        self.features.on_stasis_start(start)

    def played(self) -> list[list[str]]:
        return [a[1] for a, _ in self.ari.calls_to("channels.play")]


@pytest.fixture
async def env(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Env]:
    monkeypatch.setattr(phone_features, "CONFIRM_S", 0.0)
    e = Env()
    yield e
    await e.features.close()


async def until(predicate: Callable[[], object], within_s: float = 1.0) -> None:
    async with asyncio.timeout(within_s):
        while not predicate():  # noqa: ASYNC110 - polling plain objects
            await asyncio.sleep(0.002)


async def test_a_pause_code_with_a_reason_pauses_answers_confirms_and_hangs_up(env: Env) -> None:
    env.dial("*232")
    await until(lambda: env.ari.ops("channels.hangup"))
    assert env.service.requests == [("2101", "paused", PAUSE_REASONS["2"])]
    assert env.ari.ops() == ["channels.answer", "channels.play", "channels.hangup"]
    assert env.played() == [[SOUNDS["paused"]]]
    assert all(a[0] == CHANNEL for a, _ in env.ari.calls_to("channels.hangup"))


@pytest.mark.parametrize(
    ("code", "sound"), [("*21", "sound:agent-loginok"), ("*22", "sound:agent-loggedoff")]
)
async def test_log_in_and_out_have_their_own_confirmation(env: Env, code: str, sound: str) -> None:
    env.dial(code)
    await until(lambda: env.ari.ops("channels.hangup"))
    assert env.played() == [[sound]]


async def test_an_unknown_code_changes_nothing_and_says_sorry(env: Env) -> None:
    env.dial("*29")
    await until(lambda: env.ari.ops("channels.hangup"))
    assert env.service.requests == []
    assert env.played() == [[REFUSED]]


async def test_a_call_not_from_an_operators_phone_changes_nothing(env: Env) -> None:
    env.dial("*21", name="Local/x@agents-00000001;1")
    await until(lambda: env.ari.ops("channels.hangup"))
    assert env.service.requests == []
    assert env.played() == [[REFUSED]]


@pytest.mark.parametrize(
    "refusal", [TransitionNotAllowed("on a call"), UnknownAgent("2101"), ValueError("bad state")]
)
async def test_a_refused_change_says_sorry(env: Env, refusal: Exception) -> None:
    env.service.refuse = refusal
    env.dial("*24")
    await until(lambda: env.ari.ops("channels.hangup"))
    assert env.service.requests == [("2101", "available", None)]
    assert env.played() == [[REFUSED]]


async def test_a_caller_who_hung_up_first_is_still_hung_up(env: Env) -> None:
    env.ari.fail("channels.answer", not_found())
    env.dial("*21")
    await until(lambda: env.ari.ops("channels.hangup"))
    assert env.service.requests == [("2101", "available", None)]
    assert env.ari.ops() == ["channels.answer", "channels.hangup"]


async def test_close_cancels_a_confirmation_in_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phone_features, "CONFIRM_S", 30.0)
    e = Env()
    e.dial("*21")
    await until(lambda: e.ari.ops("channels.play"))
    async with asyncio.timeout(1.0):
        await e.features.close()
    assert e.ari.ops()[-1] == "channels.hangup"  # hung up on the way out
