"""Listen / whisper / barge: what is checked before ringing, what is built on answer, what is cleaned up."""

from __future__ import annotations

import pytest

from acd.listen_in import (
    BadEndpoint,
    Conversation,
    EndpointOffline,
    ListenIn,
    NoOperator,
    endpoint_resource,
    snoop_directions,
)
from ivr.ari.events import AriEvent, parse_event
from ivr.calls.legs import LegRegistry
from tests.calls.fake_ari import FakeAri

CONVERSATION = Conversation("leg-c1-o1", "leg-c1-bridge")


def _listen_in(ari: FakeAri, legs: LegRegistry, talking: bool = True) -> ListenIn:
    return ListenIn(ari=ari, legs=legs, conversation_of=lambda cid: CONVERSATION if talking else None)


def _event(kind: str, channel_id: str, **extra: object) -> AriEvent:
    body = {
        "type": kind,
        "application": "ivr",
        "channel": {"id": channel_id, "name": f"PJSIP/x-{channel_id}", "state": "Up"},
        **extra,
    }
    if kind == "StasisStart":
        body["args"] = ["leg:listen:c1"]
    return parse_event(body)


def test_whisper_is_heard_by_the_operator_only() -> None:
    assert snoop_directions("listen") == ("both", "none")
    assert snoop_directions("whisper") == ("both", "out")
    with pytest.raises(ValueError):
        snoop_directions("barge")


@pytest.mark.parametrize("bad", ["SIP/100", "PJSIP/", "PJSIP/a b", "PJSIP/x/../y", "Local/1@ctx"])
def test_only_a_plain_pjsip_endpoint_is_accepted(bad: str) -> None:
    assert endpoint_resource("PJSIP/3109") == "3109"
    with pytest.raises(BadEndpoint):
        endpoint_resource(bad)


async def test_refusals_before_anything_rings() -> None:
    ari, legs = FakeAri(), LegRegistry()
    ari.endpoint_states = {"3109": "online", "3110": "offline"}
    with pytest.raises(NoOperator) as no_operator:
        await _listen_in(ari, legs, talking=False).start("c1", "listen", "PJSIP/3109")
    assert no_operator.value.status == 409
    li = _listen_in(ari, legs)
    with pytest.raises(EndpointOffline):
        await li.start("c1", "listen", "PJSIP/3110")
    with pytest.raises(EndpointOffline):
        await li.start("c1", "listen", "PJSIP/9999")
    with pytest.raises(BadEndpoint) as bad_mode:
        await li.start("c1", "shout", "PJSIP/3109")
    assert bad_mode.value.status == 422
    assert ari.ops("channels.") == [] and len(legs) == 0


async def test_listen_snoops_the_operator_and_cleans_up_when_the_supervisor_hangs_up() -> None:
    ari, legs = FakeAri(), LegRegistry()
    ari.endpoint_states = {"3109": "online"}
    li = _listen_in(ari, legs)
    session = await li.start("c1", "whisper", "PJSIP/3109")
    sup = session["id"]
    assert sup.startswith("leg-c1-listen")
    [(args, kwargs)] = ari.calls_to("channels.originate")
    assert args == ("PJSIP/3109",) and kwargs["channel_id"] == sup and kwargs["app_args"] == "leg:listen:c1"
    assert sup in legs
    await li.handle(_event("StasisStart", sup))  # the supervisor answered
    [(snoop_args, snoop_kw)] = ari.calls_to("channels.snoop")
    assert snoop_args == ("leg-c1-o1",)
    assert (snoop_kw["spy"], snoop_kw["whisper"]) == ("both", "out")
    snoop = snoop_kw["snoop_id"]
    assert snoop in legs
    assert [a for a, _ in ari.calls_to("bridges.add_channel")] == [(f"{sup}-mix", [sup])]
    await li.handle(_event("StasisStart", snoop))  # only once in the app may it join a bridge
    assert [a for a, _ in ari.calls_to("bridges.add_channel")][-1] == (f"{sup}-mix", [snoop])
    await li.handle(_event("ChannelDestroyed", sup, cause=16, cause_txt="Normal Clearing"))
    assert [a for a, _ in ari.calls_to("channels.hangup")] == [(snoop,), (sup,)]
    assert [a for a, _ in ari.calls_to("bridges.destroy")] == [(f"{sup}-mix",)]
    assert len(legs) == 0 and li.sessions == {}


async def test_barge_joins_the_conversation_and_ends_when_that_bridge_goes() -> None:
    ari, legs = FakeAri(), LegRegistry()
    ari.endpoint_states = {"3109": "online"}
    li = _listen_in(ari, legs)
    sup = (await li.start("c1", "barge", "PJSIP/3109"))["id"]
    await li.handle(_event("StasisStart", sup))
    assert [a for a, _ in ari.calls_to("bridges.add_channel")] == [("leg-c1-bridge", [sup])]
    assert ari.calls_to("channels.snoop") == []
    left = _event("ChannelLeftBridge", sup, bridge={"id": "leg-c1-bridge", "technology": "softmix"})
    await li.handle(left)
    assert [a for a, _ in ari.calls_to("channels.hangup")] == [(sup,)]
    assert len(legs) == 0


async def test_operator_gone_before_the_supervisor_answers_hangs_the_supervisor_up() -> None:
    ari, legs = FakeAri(), LegRegistry()
    ari.endpoint_states = {"3109": "online"}
    talking = [True]
    li = ListenIn(ari=ari, legs=legs, conversation_of=lambda cid: CONVERSATION if talking[0] else None)
    sup = (await li.start("c1", "listen", "PJSIP/3109"))["id"]
    talking[0] = False
    await li.handle(_event("StasisStart", sup))
    assert ari.calls_to("channels.snoop") == []
    assert [a for a, _ in ari.calls_to("channels.hangup")] == [(sup,)]
    assert len(legs) == 0
