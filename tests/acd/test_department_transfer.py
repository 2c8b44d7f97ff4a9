"""Escalation to a department's phone: ring it with the caller on hold, bridge on answer, record the leg."""

from __future__ import annotations

from typing import Any

import pytest

from acd.department_transfer import DepartmentTransfers
from ivr.flows import events as fe
from tests.acd.test_dispatcher import CALL, Env, stamp
from tests.calls.fake_ari import chan_json, event, not_found
from tests.calls.harness import RecordingStore

DEPT = "leg-call-1-dept1"


class Rig:
    def __init__(self) -> None:
        self.env = Env()
        self.store = RecordingStore()
        self.owned: list[Any] = []
        self.departments = DepartmentTransfers(
            ari=self.env.ari,
            legs=self.env.legs,
            callers=self.env.callers,
            submit=lambda write: write(self.store),
            leg_owner=self.owned.append,
        )

    async def leg(self, kind: str, second: int, **body: Any) -> None:
        await self.departments.on_leg_event(event(kind, timestamp=stamp(second), **body))

    def offers(self) -> list[tuple[str, str]]:
        return [(name, a[1]) for name, a, _ in self.store.writes if name.startswith("offer_")]


@pytest.fixture
async def rig() -> Rig:
    r = Rig()
    r.env.caller()
    await r.departments.start(CALL, "warehouse", "2001")
    return r


async def test_the_department_rings_with_the_caller_on_hold(rig: Rig) -> None:
    [(args, kwargs)] = rig.env.ari.calls_to("channels.originate")
    assert args == ("PJSIP/2001",)
    assert (kwargs["channel_id"], kwargs["app_args"]) == (DEPT, "leg:department:call-1")
    assert rig.env.ari.calls_to("channels.start_moh") == [(("chan-call-1",), {})]
    assert rig.departments.owns(DEPT) and rig.env.legs.owner(DEPT) is not None


async def test_answered_department_is_bridged_and_its_end_returns_the_caller_to_the_flow(rig: Rig) -> None:
    await rig.leg("Dial", 3, peer=chan_json(DEPT), dialstatus="RINGING")
    await rig.leg("StasisStart", 5, channel=chan_json(DEPT), args=["leg:department:call-1"])
    assert rig.env.ari.calls_to("channels.stop_moh") == [(("chan-call-1",), {})]
    assert rig.env.ari.calls_to("bridges.add_channel") == [
        (("leg-call-1-dept1-bridge", ["chan-call-1", DEPT]), {})
    ]
    await rig.leg("ChannelDestroyed", 40, channel=chan_json(DEPT), cause=16)
    assert rig.env.posts[CALL] == [fe.QueueDone("orders", "answered", agent="warehouse")]
    assert rig.offers() == [
        ("offer_started", "warehouse"),
        ("offer_answered", "warehouse"),
        ("offer_ended", "warehouse"),
    ]
    assert rig.store.named("offer_ended")[0][0][3] == "answered"
    assert not rig.departments.owns(DEPT)


async def test_nobody_answering_takes_the_flows_no_agents_path(rig: Rig) -> None:
    await rig.leg("ChannelDestroyed", 30, channel=chan_json(DEPT), cause=19)
    assert rig.env.posts[CALL] == [fe.QueueDone("orders", "transfer_failed")]
    assert rig.store.named("offer_ended")[0][0][3] == "no_answer"
    assert rig.env.ari.calls_to("channels.stop_moh") == [(("chan-call-1",), {})]


async def test_a_phone_that_cannot_ring_fails_at_once() -> None:
    r = Rig()
    r.env.caller()
    r.env.ari.fail("channels.originate", not_found("/channels"))
    await r.departments.start(CALL, "warehouse", "2999")
    assert r.env.posts[CALL] == [fe.QueueDone("orders", "transfer_failed")]
    assert r.store.named("offer_ended")[0][0][3] == "failed:unreachable"


async def test_the_caller_leaving_hangs_the_department_up(rig: Rig) -> None:
    await rig.departments.caller_left(CALL)
    assert DEPT in rig.env.hangups()
