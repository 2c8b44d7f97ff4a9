"""Dispatcher: the distributor's commands as ARI operations, and the agent legs' events as ACD events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from acd import conversation_marker
from acd.caller_directory import Caller, CallerDirectory
from acd.dispatcher import ORIGINATE_GRACE_S, Dispatcher
from acd.events import (
    AcdEvent,
    CancelOffer,
    Connect,
    ConnectFailed,
    ConversationEnded,
    CustomerAnswered,
    CustomerFailed,
    DialCustomer,
    OfferAnswered,
    OfferFailed,
    OfferRinging,
    QueueLeft,
    QueueStatus,
    RingAgent,
)
from acd.reservation import InMemoryReservations
from ivr.ari.events import AriEvent
from ivr.calls.legs import LegRegistry
from ivr.calls.ports import QueueRequest
from ivr.flows import events as fe
from tests.calls.fake_ari import FakeAri, chan_json, event, not_found

OUTBOUND = "PJSIP/trunk/sip:{number}@127.0.0.1:5070"
OFFER, CALL, AGENT, LEG = "call-1-o1", "call-1", "2101", "leg-call-1-o1"
BRIDGE = "leg-call-1-bridge"


def stamp(second: int) -> str:
    return f"2026-12-01T01:02:{second:02d}.250+0000"


def when(second: int) -> datetime:
    return datetime(2026, 12, 1, 1, 2, second, 250000, tzinfo=UTC)


class Env:
    def __init__(self) -> None:
        self.ari = FakeAri()
        self.legs = LegRegistry()
        self.reservations = InMemoryReservations()
        self.callers = CallerDirectory()
        self.reported: list[AcdEvent] = []
        self.owned: list[AriEvent] = []
        self.posts: dict[str, list[fe.Event]] = {}
        self.dispatcher = Dispatcher(
            ari=self.ari,
            legs=self.legs,
            reservations=self.reservations,
            callers=self.callers,
            report=self.reported.append,
            leg_owner=self.owned.append,
            outbound_dial=OUTBOUND,
        )

    def caller(self, call_id: str = CALL, queue: str = "orders") -> Caller:
        request = QueueRequest(
            call_id=call_id,
            channel_id=f"chan-{call_id}",
            queue=queue,
            priority=0,
            lang="ja",
            entered_at=when(0),
            timeout_s=300,
            caller_number="0312345678",
            caller_name="Hanako Yamada",
        )
        posts = self.posts.setdefault(call_id, [])
        caller = Caller(request, posts.append, queue)
        self.callers.add(caller)
        return caller

    async def ring(
        self, offer: str = OFFER, call: str = CALL, agent: str = AGENT, kind: str = "call"
    ) -> None:
        await self.dispatcher.execute(RingAgent(offer, call, agent, 15.0, kind))

    async def leg(self, kind: str, channel_id: str = LEG, second: int = 5, **body: Any) -> None:
        ev = event(kind, timestamp=stamp(second), **body)
        await self.dispatcher.on_leg_event(ev)

    async def ringing(self, channel_id: str = LEG, second: int = 5) -> None:
        await self.leg("Dial", channel_id, second, peer=chan_json(channel_id), dialstatus="RINGING")

    async def answered(self, channel_id: str = LEG, second: int = 6) -> None:
        await self.leg("StasisStart", channel_id, second, channel=chan_json(channel_id), args=["leg:x"])

    async def destroyed(self, channel_id: str = LEG, second: int = 9, cause: int = 16) -> None:
        await self.leg("ChannelDestroyed", channel_id, second, channel=chan_json(channel_id), cause=cause)

    async def connected(self) -> Caller:
        caller = self.caller()
        await self.ring()
        await self.answered()
        await self.dispatcher.execute(Connect(OFFER, CALL, AGENT))
        return caller

    def hangups(self) -> list[str]:
        return [a[0] for a, _ in self.ari.calls_to("channels.hangup")]


@pytest.fixture
def env() -> Env:
    return Env()


# --- RingAgent --------------------------------------------------------------------------------


async def test_ring_agent_reserves_the_agent_and_originates_its_phone_as_a_claimed_leg(env: Env) -> None:
    env.caller()
    await env.ring()
    assert await env.reservations.holder(AGENT) == OFFER
    [(args, kwargs)] = env.ari.calls_to("channels.originate")
    assert args == ("PJSIP/2101",)
    assert kwargs["channel_id"] == LEG
    assert kwargs["app"] == "ivr"
    assert kwargs["app_args"] == "leg:agent:call-1"
    assert kwargs["caller_id"] == '"Hanako Yamada" <0312345678>'
    assert kwargs["timeout"] == 15 + ORIGINATE_GRACE_S
    owner = env.legs.owner(LEG)
    assert owner is not None
    marker = event("ChannelStateChange", channel=chan_json(LEG))
    owner(marker)
    assert env.owned == [marker]
    assert env.reported == []


async def test_an_agent_held_by_another_offer_fails_the_offer_without_ringing(env: Env) -> None:
    assert await env.reservations.try_reserve(AGENT, "call-9-o1")
    await env.ring()
    assert len(env.reported) == 1
    failed = env.reported[0]
    assert isinstance(failed, OfferFailed)
    assert (failed.offer_id, failed.cause) == (OFFER, "reserved elsewhere")
    assert env.ari.ops("channels.originate") == []
    assert LEG not in env.legs
    assert await env.reservations.holder(AGENT) == "call-9-o1"


async def test_a_phone_that_cannot_be_originated_fails_the_offer_and_frees_reservation_and_leg(
    env: Env,
) -> None:
    env.ari.fail("channels.originate", not_found("/channels/create"))
    await env.ring()
    [failed] = env.reported
    assert isinstance(failed, OfferFailed)
    assert failed.offer_id == OFFER
    assert failed.cause.startswith("unreachable")
    assert await env.reservations.holder(AGENT) is None
    assert LEG not in env.legs
    assert OFFER not in env.dispatcher.by_offer


# --- the agent leg's events ---------------------------------------------------------------------


async def test_ringing_is_reported_once_with_asterisks_timestamp(env: Env) -> None:
    await env.ring()
    await env.ringing(second=5)
    await env.ringing(second=7)
    await env.leg("ChannelStateChange", second=8, channel=chan_json(LEG, state="Ringing"))
    assert env.reported == [OfferRinging(OFFER, when(5))]


async def test_a_dial_event_other_than_ringing_reports_nothing(env: Env) -> None:
    await env.ring()
    await env.leg("Dial", second=5, peer=chan_json(LEG), dialstatus="")
    assert env.reported == []


async def test_ringing_state_change_counts_as_ringing(env: Env) -> None:
    await env.ring()
    await env.leg("ChannelStateChange", second=4, channel=chan_json(LEG, state="Ringing"))
    assert env.reported == [OfferRinging(OFFER, when(4))]


async def test_the_leg_entering_the_app_is_the_answer_at_its_timestamp(env: Env) -> None:
    await env.ring()
    await env.ringing(second=5)
    await env.answered(second=9)
    assert env.reported == [OfferRinging(OFFER, when(5)), OfferAnswered(OFFER, when(9))]


async def test_events_of_channels_that_are_not_acd_legs_are_ignored(env: Env) -> None:
    await env.ring()
    await env.ringing("leg-other-o1")
    await env.destroyed("leg-other-o1")
    assert env.reported == []


async def test_a_leg_destroyed_before_answer_fails_the_offer_with_the_cause(env: Env) -> None:
    await env.ring()
    await env.ringing(second=5)
    await env.destroyed(second=8, cause=17)
    assert env.reported[-1] == OfferFailed(OFFER, "17 user busy", when(8))
    assert await env.reservations.holder(AGENT) is None
    assert LEG not in env.legs
    assert LEG not in env.dispatcher.by_channel


async def test_an_unknown_cause_number_uses_asterisks_text(env: Env) -> None:
    await env.ring()
    await env.leg("ChannelDestroyed", second=8, channel=chan_json(LEG), cause=99, cause_txt="Odd")
    assert env.reported == [OfferFailed(OFFER, "99 Odd", when(8))]


async def test_a_cancelled_offer_hangs_up_releases_and_reports_nothing_when_the_leg_dies(
    env: Env,
) -> None:
    await env.ring()
    await env.ringing(second=5)
    await env.dispatcher.execute(CancelOffer(OFFER, "no answer"))
    assert env.hangups() == [LEG]
    assert await env.reservations.holder(AGENT) is None
    await env.destroyed(second=9)
    assert env.reported == [OfferRinging(OFFER, when(5))]
    assert LEG not in env.legs


async def test_cancelling_an_unknown_offer_does_nothing(env: Env) -> None:
    await env.dispatcher.execute(CancelOffer("call-7-o3", "answered elsewhere"))
    assert env.ari.log == []


async def test_a_leg_that_already_hung_up_can_still_be_cancelled(env: Env) -> None:
    await env.ring()
    env.ari.fail("channels.hangup", not_found())
    await env.dispatcher.execute(CancelOffer(OFFER, "no answer"))
    assert await env.reservations.holder(AGENT) is None


# --- Connect and the conversation ---------------------------------------------------------------


async def test_connect_stops_hold_music_and_bridges_caller_and_agent(env: Env) -> None:
    caller = await env.connected()
    ops = env.ari.ops()
    assert ops[ops.index("channels.stop_moh") :] == [
        "channels.stop_moh",
        "bridges.create",
        "bridges.add_channel",
        "channels.set_var",  # the conversation's mark
    ]
    assert env.ari.calls_to("channels.stop_moh") == [(("chan-call-1",), {})]
    assert env.ari.calls_to("bridges.create") == [((), {"bridge_type": "mixing", "bridge_id": BRIDGE})]
    assert env.ari.calls_to("bridges.add_channel") == [((BRIDGE, ["chan-call-1", LEG]), {})]
    assert env.posts[CALL] == [fe.AgentConnected("orders", AGENT)]
    assert caller.agent == AGENT
    assert env.callers.for_agent(AGENT) is caller


async def test_connect_bridges_even_when_hold_music_was_already_off(env: Env) -> None:
    env.ari.fail("channels.stop_moh", not_found())
    await env.connected()
    assert env.ari.ops("bridges.") == ["bridges.create", "bridges.add_channel"]


async def test_a_bridge_that_cannot_be_made_hangs_up_the_agents_leg(env: Env) -> None:
    env.ari.fail("bridges.add_channel", not_found("/bridges/x/addChannel"))
    await env.connected()
    assert env.hangups() == [LEG]


async def test_connect_for_a_caller_already_gone_does_nothing(env: Env) -> None:
    await env.ring()
    await env.answered()
    await env.dispatcher.execute(Connect(OFFER, CALL, AGENT))
    assert env.ari.ops("bridges.") == []


async def test_an_agent_gone_before_the_bridge_reports_connect_failed_and_bridges_nothing(env: Env) -> None:
    caller = env.caller()
    await env.ring()
    await env.answered()
    await env.destroyed(second=7)  # its end reached the ACD before the distributor's Connect
    assert env.reported == [OfferAnswered(OFFER, when(6))]
    await env.dispatcher.execute(Connect(OFFER, CALL, AGENT))
    [failed] = env.reported[1:]
    assert isinstance(failed, ConnectFailed)
    assert (failed.call_id, failed.agent_id, failed.cause) == (CALL, AGENT, "agent hung up")
    assert env.ari.ops("bridges.") == []
    assert env.posts[CALL] == []  # the caller's flow never hears of an agent it did not get
    assert env.callers.get(CALL) is caller and caller.agent is None


async def test_a_failed_bridge_reports_connect_failed_and_puts_the_caller_back_on_hold(env: Env) -> None:
    env.ari.fail("bridges.add_channel", not_found("/bridges/x/addChannel"))
    caller = await env.connected()
    [failed] = [e for e in env.reported if isinstance(e, ConnectFailed)]
    assert (failed.call_id, failed.agent_id, failed.cause) == (CALL, AGENT, "bridge failed")
    assert env.ari.calls_to("bridges.destroy") == [((BRIDGE,), {})]
    assert env.ari.calls_to("channels.start_moh")[-1][0] == ("chan-call-1",)
    assert env.posts[CALL] == [] and caller.agent is None
    await env.destroyed(second=9)  # the agent's leg ends: not a conversation that ended
    assert not [e for e in env.reported if isinstance(e, ConversationEnded)]
    assert env.posts[CALL] == [] and env.callers.get(CALL) is caller
    assert await env.reservations.holder(AGENT) is None


async def test_connect_after_the_caller_left_hangs_up_the_answered_agent(env: Env) -> None:
    await env.ring()
    await env.answered()
    await env.dispatcher.execute(Connect(OFFER, CALL, AGENT))
    assert env.hangups() == [LEG]
    await env.destroyed(second=9)
    assert env.reported == [OfferAnswered(OFFER, when(6))]  # its CallGone settles the agent


async def test_the_agent_hanging_up_ends_the_conversation_and_gives_the_caller_back(env: Env) -> None:
    await env.connected()
    await env.destroyed(second=40)
    assert env.ari.calls_to("bridges.destroy") == [((BRIDGE,), {})]
    assert env.posts[CALL] == [
        fe.AgentConnected("orders", AGENT),
        fe.QueueDone("orders", "answered", agent=AGENT),
    ]
    assert env.reported[-1] == ConversationEnded(CALL, when(40))
    assert env.callers.get(CALL) is None
    assert await env.reservations.holder(AGENT) is None
    assert env.hangups() == []  # the leg is already gone


async def test_the_caller_is_taken_out_of_the_bridge_before_it_goes_and_before_its_flow_goes_on(
    env: Env,
) -> None:
    """bench.cluster, caller 923400005: destroying the bridge with the caller still in it left the
    caller's Stasis control naming the dying bridge for a moment; the survey prompt played then was
    dropped by Asterisk without a PlaybackFinished and the call hung silent. The caller now leaves by
    ``removeChannel`` (answered once it is out), before the bridge goes and before QueueDone."""
    caller = await env.connected()
    bridge_ops_when_told: list[list[str]] = []
    caller.post = lambda e: bridge_ops_when_told.append(env.ari.ops("bridges."))
    await env.destroyed(second=40)
    assert env.ari.calls_to("bridges.remove_channel") == [((BRIDGE, [f"chan-{CALL}"]), {})]
    ops = env.ari.ops("bridges.")
    assert ops.index("bridges.remove_channel") < ops.index("bridges.destroy")
    assert bridge_ops_when_told == [ops]  # QueueDone only once the caller is out and the bridge gone


async def test_a_caller_who_left_is_not_taken_out_of_the_bridge(env: Env) -> None:
    await env.connected()
    await env.dispatcher.caller_left(CALL)
    assert env.ari.calls_to("bridges.remove_channel") == []
    assert env.ari.calls_to("bridges.destroy") == [((BRIDGE,), {})]


async def test_a_caller_put_through_is_marked_on_its_channel_once_bridged(env: Env) -> None:
    """The mark outlives a killed controller and its lost writes (``conversation_marker``): it is set
    once both are in the bridge, before the caller's flow hears of it."""
    await env.connected()
    ops = [name for name, _a, _k in env.ari.log]
    assert ops.index("bridges.add_channel") < ops.index("channels.set_var")
    assert env.ari.calls_to("channels.set_var") == [
        ((f"chan-{CALL}", conversation_marker.VAR, conversation_marker.mark(CALL, AGENT, when(0))), {})
    ]
    await env.destroyed(second=40)
    assert len(env.ari.calls_to("channels.set_var")) == 1  # the conversation's end changes nothing


async def test_a_bridge_that_fails_leaves_no_mark(env: Env) -> None:
    env.caller()
    await env.ring()
    await env.answered()
    env.ari.fail("bridges.add_channel", not_found())
    await env.dispatcher.execute(Connect(OFFER, CALL, AGENT))
    assert env.ari.calls_to("channels.set_var") == []


async def test_the_caller_leaving_hangs_up_the_agents_leg(env: Env) -> None:
    await env.connected()
    await env.dispatcher.caller_left(CALL)
    assert env.hangups() == [LEG]
    assert env.ari.calls_to("bridges.destroy") == [((BRIDGE,), {})]
    assert env.posts[CALL] == [fe.AgentConnected("orders", AGENT)]  # nobody to tell: the caller left
    assert env.callers.get(CALL) is None
    await env.destroyed(second=41)
    assert env.reported[-1] == ConversationEnded(CALL, when(41))


async def test_a_caller_leaving_while_waiting_touches_no_channel(env: Env) -> None:
    env.caller()
    await env.dispatcher.caller_left(CALL)
    assert env.ari.log == []
    assert env.callers.get(CALL) is None


async def test_requeue_hangs_up_the_agent_without_ending_the_conversation(env: Env) -> None:
    caller = await env.connected()
    await env.dispatcher.requeued(CALL, "returns")
    assert env.hangups() == [LEG]
    assert env.ari.calls_to("bridges.destroy") == [((BRIDGE,), {})]
    assert env.posts[CALL][-1] == fe.BackInQueue("returns")
    assert (caller.queue, caller.agent) == ("returns", None)
    assert env.ari.calls_to("channels.set_var")[-1] == ((f"chan-{CALL}", conversation_marker.VAR, ""), {})
    reported = list(env.reported)
    await env.destroyed(second=30)
    assert env.reported == reported  # neither ConversationEnded nor OfferFailed
    assert await env.reservations.holder(AGENT) is None
    assert env.callers.get(CALL) is caller  # still waiting, in the new queue


# --- the caller's flow events -------------------------------------------------------------------


async def test_queue_left_reaches_the_callers_flow_and_forgets_the_caller(env: Env) -> None:
    env.caller()
    await env.dispatcher.execute(QueueLeft(CALL, "timeout"))
    assert env.posts[CALL] == [fe.QueueDone("orders", "timeout")]
    assert env.callers.get(CALL) is None
    await env.dispatcher.execute(QueueLeft(CALL, "timeout"))
    assert len(env.posts[CALL]) == 1


async def test_queue_status_reaches_the_callers_flow(env: Env) -> None:
    env.caller()
    await env.dispatcher.execute(QueueStatus(CALL, 2, 120))
    await env.dispatcher.execute(QueueStatus("call-unknown", 1, 60))
    assert env.posts[CALL] == [fe.QueueStatus("orders", 2, 120)]
    assert env.callers.get(CALL) is not None


# --- callbacks: the customer's leg ---------------------------------------------------------------

CB, CB_OFFER, CB_LEG = "cb-1", "cb-1-o1", "leg-cb-1-o1"
CUSTOMER = "leg-cb-1-o1-customer"
CB_BRIDGE = "leg-cb-1-bridge"


async def agent_answered_callback(env: Env) -> None:
    await env.ring(CB_OFFER, CB, AGENT, kind="callback")
    await env.answered(CB_LEG, second=3)
    await env.dispatcher.execute(DialCustomer(CB_OFFER, CB, AGENT, "0312345678"))


async def test_dial_customer_holds_the_agent_in_the_bridge_and_dials_the_customer(env: Env) -> None:
    await agent_answered_callback(env)
    [(args, kwargs)] = env.ari.calls_to("channels.originate")[1:]
    assert args == ("PJSIP/trunk/sip:0312345678@127.0.0.1:5070",)
    assert kwargs["channel_id"] == CUSTOMER
    assert kwargs["app_args"] == "leg:customer:cb-1"
    assert env.ari.calls_to("bridges.create") == [((), {"bridge_type": "mixing", "bridge_id": CB_BRIDGE})]
    assert env.ari.calls_to("bridges.add_channel") == [((CB_BRIDGE, [CB_LEG]), {})]
    assert env.ari.calls_to("channels.start_moh") == [((CB_LEG,), {})]
    assert CUSTOMER in env.legs


async def test_the_customer_answering_joins_the_bridge_and_is_reported(env: Env) -> None:
    await agent_answered_callback(env)
    await env.answered(CUSTOMER, second=12)
    assert env.ari.calls_to("channels.stop_moh") == [((CB_LEG,), {})]
    assert env.ari.calls_to("bridges.add_channel")[-1] == ((CB_BRIDGE, [CUSTOMER]), {})
    assert env.reported[-1:] == [CustomerAnswered(CB, when(12))]
    await env.destroyed(CUSTOMER, second=50)
    assert env.hangups() == [CB_LEG]
    assert env.ari.calls_to("bridges.destroy") == [((CB_BRIDGE,), {})]
    assert env.reported[-1:] == [ConversationEnded(CB, when(50))]


async def test_a_customer_who_does_not_answer_fails_the_callback(env: Env) -> None:
    await agent_answered_callback(env)
    await env.destroyed(CUSTOMER, second=40, cause=19)
    assert env.reported[-1] == CustomerFailed(CB, "19 no answer", when(40))
    assert CUSTOMER not in env.legs
    assert env.hangups() == [CB_LEG]  # the agent holding for the customer is free again
    assert env.ari.calls_to("bridges.destroy") == [((CB_BRIDGE,), {})]
    assert await env.reservations.holder(AGENT) is None
    reported = list(env.reported)
    await env.destroyed(CB_LEG, second=41)
    assert env.reported == reported  # the agent's leg ending is no news


async def test_the_operator_hanging_up_while_the_customer_rings_stops_the_dialling(env: Env) -> None:
    await agent_answered_callback(env)
    await env.destroyed(CB_LEG, second=20)
    assert CUSTOMER in env.hangups()  # nobody would be there for the customer
    await env.destroyed(CUSTOMER, second=21, cause=16)
    assert env.reported[-1] == CustomerFailed(CB, "16 normal clearing", when(21))  # retried later


async def test_a_customer_who_cannot_be_dialled_fails_the_callback(env: Env) -> None:
    await env.ring(CB_OFFER, CB, AGENT, kind="callback")
    await env.answered(CB_LEG, second=3)
    env.ari.fail("channels.originate", not_found("/channels/create"))
    await env.dispatcher.execute(DialCustomer(CB_OFFER, CB, AGENT, "0312345678"))
    [failed] = [e for e in env.reported if isinstance(e, CustomerFailed)]
    assert failed.cause.startswith("unreachable")
    assert CUSTOMER not in env.legs
    assert env.hangups() == [CB_LEG]
    assert await env.reservations.holder(AGENT) is None


async def test_a_callback_without_a_number_fails_at_once(env: Env) -> None:
    await env.ring(CB_OFFER, CB, AGENT, kind="callback")
    await env.dispatcher.execute(DialCustomer(CB_OFFER, CB, AGENT, None))
    [failed] = [e for e in env.reported if isinstance(e, CustomerFailed)]
    assert failed.cause == "no number"
    assert len(env.ari.calls_to("channels.originate")) == 1  # only the agent's phone


# --- after a controller restart ------------------------------------------------------------------


async def test_a_restored_conversation_ends_like_any_other(env: Env) -> None:
    env.dispatcher.restore_conversation(call_id=CALL, offer_id=OFFER, agent_id=AGENT, leg_id=LEG)
    assert env.dispatcher.restored[CALL] == (AGENT, OFFER)
    assert LEG in env.legs
    caller = env.caller()
    caller.agent = AGENT
    await env.destroyed(second=59)
    assert env.ari.calls_to("bridges.destroy") == [((BRIDGE,), {})]
    assert env.posts[CALL] == [fe.QueueDone("orders", "answered", agent=AGENT)]
    assert env.reported[-1] == ConversationEnded(CALL, when(59))


async def test_a_restored_conversation_is_hung_up_when_the_caller_leaves(env: Env) -> None:
    env.dispatcher.restore_conversation(call_id=CALL, offer_id=OFFER, agent_id=AGENT, leg_id=LEG)
    await env.dispatcher.caller_left(CALL)
    assert env.hangups() == [LEG]
