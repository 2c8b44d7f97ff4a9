"""One ACD across nodes, the pure part: what another node's agent state change means here
(``Distributor.remote_agent_change`` / ``AgentBook.adopt_remote``)."""

from __future__ import annotations

from acd.agent_book import RemoteAgentState
from acd.agents import AgentState
from acd.events import (
    AgentChanged,
    AgentRequest,
    CancelOffer,
    ConversationEnded,
    OfferAnswered,
    OfferFailed,
    RingAgent,
)
from acd.offers import RESERVED_ELSEWHERE
from tests.acd.builders import agent, at, config, queue
from tests.acd.dist_helpers import Driver, of, rings

S = AgentState


def node() -> Driver:
    return Driver(
        config(
            [agent("2101", {"orders": 5}), agent("2102", {"orders": 3})],
            [queue("orders", ring_timeout_s=15.0, wrapup_s=10.0)],
        ),
        reserved_elsewhere_retry_s=30.0,
    )


def remote(
    agent_id: str, state: AgentState, t: float, call: str | None = None, reason: str | None = None
) -> RemoteAgentState:
    return RemoteAgentState(agent_id, state, at(t), reason, call, "node-b")


def test_an_agent_busy_on_another_node_is_not_offered_here_until_that_node_frees_them() -> None:
    d = node()
    d.login("2101")
    for t, state in ((1, S.RESERVED), (2, S.ON_CALL), (40, S.WRAP_UP)):
        out = d.d.remote_agent_change(remote("2101", state, t, call="b-call"), at(t))
        assert out == []  # no record, no share: the other node does that
        assert d.state("2101") == state and d.d.agent("2101").current_call == "b-call"
        assert rings(d.queue(f"c{t}", "orders", t)) == []
    out = d.d.remote_agent_change(remote("2101", S.AVAILABLE, 50), at(50))
    assert rings(out) == [("c1", "2101")]  # the longest waiting caller here, at once
    assert d.d.agent("2101").current_call == "c1"


def test_paused_or_logged_out_on_another_node_is_not_offered_and_available_there_is() -> None:
    d = node()
    d.d.remote_agent_change(remote("2102", S.AVAILABLE, 1), at(1))
    assert d.state("2102") == S.AVAILABLE  # logged in through another node's API
    d.d.remote_agent_change(remote("2102", S.PAUSED, 2, reason="lunch"), at(2))
    assert (d.state("2102"), d.d.agent("2102").reason) == (S.PAUSED, "lunch")
    d.d.remote_agent_change(remote("2102", S.LOGGED_OUT, 3), at(3))
    assert d.state("2102") == S.LOGGED_OUT
    d.send(AgentRequest("2101", "paused", "meeting"), 4)  # logged in here, so a caller may queue
    assert rings(d.queue("c1", "orders", 5)) == []  # 2102 is not offered: logged out elsewhere
    out = d.d.remote_agent_change(remote("2102", S.AVAILABLE, 6), at(6))
    assert rings(out) == [("c1", "2102")]


def test_logged_out_elsewhere_while_rung_here_withdraws_the_offer_as_a_request_here_would() -> None:
    d = node()
    d.login("2101", "2102")
    d.send(AgentRequest("2102", "paused", "meeting"), 0)
    [ring] = of(d.queue("c1", "orders", 4), RingAgent)
    d.d.remote_agent_change(remote("2101", S.PAUSED, 3), at(6))  # from before this offer: stale
    assert d.state("2101") == S.RESERVED
    out = d.d.remote_agent_change(remote("2101", S.LOGGED_OUT, 7), at(7))
    assert of(out, CancelOffer) == [CancelOffer(ring.offer_id, "agent logged out", "c1", "2101")]
    assert d.state("2101") == S.LOGGED_OUT
    assert [w.call_id for w in d.d.waiting("orders")] == ["c1"]  # waits again at its place


def test_a_change_from_another_node_never_overrides_this_nodes_offer_or_conversation() -> None:
    d = node()
    d.login("2101")
    [ring] = of(d.queue("c1", "orders", 1), RingAgent)
    d.d.remote_agent_change(remote("2101", S.AVAILABLE, 2), at(2))  # e.g. a loser of the race
    assert d.state("2101") == S.RESERVED
    d.send(OfferAnswered(ring.offer_id, at(3)), 3)
    d.d.remote_agent_change(remote("2101", S.AVAILABLE, 4), at(4))
    assert (d.state("2101"), d.d.agent("2101").current_call) == (S.ON_CALL, "c1")
    assert rings(d.queue("c2", "orders", 5)) == []


def test_an_older_change_than_this_node_knows_is_ignored() -> None:
    d = node()
    d.login("2101", t=10)
    d.d.remote_agent_change(remote("2101", S.PAUSED, 5), at(11))  # published before the log-in here
    assert d.state("2101") == S.AVAILABLE


def test_reserved_elsewhere_waits_for_the_agents_next_change_not_the_retry_time() -> None:
    d = node()
    d.login("2101")
    [ring] = of(d.queue("c1", "orders", 1), RingAgent)
    d.send(OfferFailed(ring.offer_id, RESERVED_ELSEWHERE, at(1)), 1)
    assert rings(d.tick(2)) == []  # blocked: another node holds the agent
    d.d.remote_agent_change(remote("2101", S.ON_CALL, 3, call="b-call"), at(3))
    assert rings(d.tick(31)) == []  # on a call there: the end of the block does not offer them
    out = d.d.remote_agent_change(remote("2101", S.AVAILABLE, 60), at(60))
    assert rings(out) == [("c1", "2101")]


def test_a_wrap_up_here_ends_when_another_node_makes_the_agent_available() -> None:
    d = node()
    d.login("2101")
    [ring] = of(d.queue("c1", "orders", 1), RingAgent)
    d.send(OfferAnswered(ring.offer_id, at(2)), 2)
    d.send(ConversationEnded("c1", at(5)), 5)
    assert d.state("2101") == S.WRAP_UP
    d.d.remote_agent_change(remote("2101", S.AVAILABLE, 6), at(6))  # *25 dialled through node B
    assert d.state("2101") == S.AVAILABLE
    assert not [c for c in d.tick(15) if isinstance(c, AgentChanged)]  # no wrap-up timer left here


def test_unknown_agents_are_ignored() -> None:
    d = node()
    assert d.d.remote_agent_change(remote("9999", S.AVAILABLE, 1), at(1)) == []
    assert [s.id for s in d.d.agents()] == ["2101", "2102"]
