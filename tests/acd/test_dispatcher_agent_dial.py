"""Dispatcher: an operator's phone is dialled as the site says — its own endpoint on this Asterisk, or
through the Kamailio in front of the node (scale-out, ``IVR_SIP_PROXY``)."""

from __future__ import annotations

from acd.caller_directory import CallerDirectory
from acd.dispatcher import Dispatcher
from acd.events import AcdEvent, RingAgent
from acd.reservation import InMemoryReservations
from ivr.ari.events import AriEvent
from ivr.calls.legs import LegRegistry
from tests.calls.fake_ari import FakeAri


async def _originated(**dial: str) -> str:
    ari = FakeAri()
    reported: list[AcdEvent] = []
    owned: list[AriEvent] = []
    dispatcher = Dispatcher(
        ari=ari,
        legs=LegRegistry(),
        reservations=InMemoryReservations(),
        callers=CallerDirectory(),
        report=reported.append,
        leg_owner=owned.append,
        outbound_dial="PJSIP/trunk/sip:{number}@127.0.0.1:5070",
        **dial,
    )
    await dispatcher.execute(RingAgent("call-1-o1", "call-1", "2101", 15.0, "call"))
    [(args, _)] = ari.calls_to("channels.originate")
    return str(args[0])


async def test_without_a_proxy_the_operator_is_its_own_endpoint() -> None:
    assert await _originated() == "PJSIP/2101"


async def test_behind_kamailio_the_operator_is_rung_through_it() -> None:
    dialled = await _originated(agent_dial="PJSIP/kamailio/sip:{agent}@127.0.0.1:5090")
    assert dialled == "PJSIP/kamailio/sip:2101@127.0.0.1:5090"
