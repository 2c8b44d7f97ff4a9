"""How a gone node's open records are closed (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ivr.calls.node_gone import gone_node_calls, gone_node_closure

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Rec:
    id: str
    channel_id: str
    started_at: datetime = T0
    queue: str | None = None
    agent: str | None = None


def test_only_the_gone_nodes_asterisk_calls_are_taken() -> None:
    calls = [Rec("1", "nodeb-1764590400.12"), Rec("2", "nodea-1764590400.3"), Rec("3", "nodeb2-1.1")]
    assert [c.id for c in gone_node_calls(calls, "nodeb")] == ["1"]
    assert gone_node_calls(calls, None) == []  # unknown name: never guess
    assert gone_node_calls(calls, "") == []


def test_outcome_follows_where_the_caller_was() -> None:
    seen, noticed = T0 + timedelta(seconds=30), T0 + timedelta(seconds=60)
    talking = gone_node_closure(
        Rec("1", "b-1.1", queue="q", agent="3101"), node="b", last_seen=seen, noticed_at=noticed
    )
    assert (talking.outcome, talking.cause) == ("completed", "node b gone (talking to operator 3101)")
    waiting = gone_node_closure(Rec("2", "b-1.2", queue="q"), node="b", last_seen=seen, noticed_at=noticed)
    assert (waiting.outcome, waiting.cause) == ("abandoned", "node b gone (waiting in queue q)")
    in_flow = gone_node_closure(Rec("3", "b-1.3"), node="b", last_seen=seen, noticed_at=noticed)
    assert (in_flow.outcome, in_flow.cause) == ("abandoned", "node b gone (in the flow)")
    saying_goodbye = gone_node_closure(
        Rec("4", "b-1.4"), node="b", last_seen=seen, noticed_at=noticed, ended_by_flow="transferred"
    )
    assert saying_goodbye.outcome == "transferred"
    with_operator_at_goodbye = gone_node_closure(
        Rec("5", "b-1.5", agent="3101"), node="b", last_seen=seen, noticed_at=noticed, ended_by_flow="x"
    )
    assert with_operator_at_goodbye.outcome == "completed"


def test_ends_at_the_last_heartbeat_never_before_the_call_began() -> None:
    seen = T0 + timedelta(seconds=30)
    assert (
        gone_node_closure(
            Rec("1", "b-1.1"), node="b", last_seen=seen, noticed_at=T0 + timedelta(minutes=1)
        ).ended_at
        == seen
    )
    late = Rec("2", "b-1.2", started_at=T0 + timedelta(seconds=40))  # began after the last beat
    assert (
        gone_node_closure(late, node="b", last_seen=seen, noticed_at=T0 + timedelta(minutes=1)).ended_at
        == late.started_at
    )
    # a clock oddity (last beat after noticing) never pushes the end past the moment it was noticed
    assert (
        gone_node_closure(
            Rec("3", "b-1.3"), node="b", last_seen=T0 + timedelta(hours=1), noticed_at=seen
        ).ended_at
        == seen
    )
