from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from ivr.calls.orphans import (
    IVR_HUNG_UP,
    AsteriskFacts,
    asterisk_facts,
    belongs_to,
    closure,
    hangup_outcome,
    orphans,
    restarted,
)
from ivr.flows.loader import SHIPPED_DIR, load_file
from ivr.flows.verbs.hangup import Hangup

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Rec:
    id: str
    channel_id: str
    started_at: datetime = T0
    queue: str | None = None
    agent: str | None = None


def test_asterisk_facts_from_ari_info() -> None:
    info = {"config": {"name": "main"}, "status": {"startup_time": "2025-03-01T09:00:00.000+0000"}}
    assert asterisk_facts(info) == AsteriskFacts("main", T0)
    assert asterisk_facts({"config": "odd", "status": {"startup_time": "soon"}}) == AsteriskFacts(None, None)


def test_a_restart_is_a_changed_start_time() -> None:
    first, later = AsteriskFacts("main", T0), AsteriskFacts("main", T0 + timedelta(minutes=5))
    assert restarted(first, later)
    assert not restarted(first, first)
    assert not restarted(None, later)  # the first connection of this process
    assert not restarted(first, AsteriskFacts("main", None))


def test_only_this_asterisks_channels_belong_to_it() -> None:
    assert belongs_to("main-1740819600.12", "main")
    assert not belongs_to("main2-1740819600.12", "main")
    assert not belongs_to("node-b-1740819600.12", "main")
    assert belongs_to("1740819600.12", None)
    assert not belongs_to("main-1740819600.12", None)


def test_orphans_are_gone_unknown_and_older_than_the_channel_list() -> None:
    calls = [
        Rec("gone", "main-1.1"),
        Rec("live", "main-1.2"),
        Rec("in-memory", "main-1.3"),
        Rec("other-node", "b-1.4"),
        Rec("arrived-since", "main-1.5", started_at=T0 + timedelta(seconds=30)),
    ]
    found = orphans(
        calls,
        system_name="main",
        live_channels={"main-1.2"},
        known_calls={"in-memory"},
        seen_at=T0 + timedelta(seconds=10),
    )
    assert [c.id for c in found] == ["gone"]


def test_a_caller_put_through_to_an_operator_completed_others_abandoned() -> None:
    now = T0 + timedelta(minutes=1)
    talked = closure(
        Rec("a", "main-1.1", agent="3101", queue="orders"),
        asterisk_started_at=None,
        cdr_end=None,
        noticed_at=now,
    )
    waited = closure(
        Rec("b", "main-1.2", queue="orders"), asterisk_started_at=None, cdr_end=None, noticed_at=now
    )
    flow = closure(Rec("c", "main-1.3"), asterisk_started_at=None, cdr_end=None, noticed_at=now)
    assert (talked.outcome, talked.cause) == (
        "completed",
        "channel gone while the controller was away (talking to operator 3101)",
    )
    assert (waited.outcome, waited.cause) == (
        "abandoned",
        "channel gone while the controller was away (waiting in queue orders)",
    )
    assert (flow.outcome, flow.cause) == (
        "abandoned",
        "channel gone while the controller was away (in the flow)",
    )
    assert flow.ended_at == now


def test_the_cdr_end_time_wins_and_a_restart_is_named() -> None:
    restart_at, now = T0 + timedelta(seconds=40), T0 + timedelta(minutes=3)
    call = Rec("a", "main-1.1")
    with_cdr = closure(
        call, asterisk_started_at=restart_at, cdr_end=T0 + timedelta(seconds=20), noticed_at=now
    )
    without = closure(call, asterisk_started_at=restart_at, cdr_end=None, noticed_at=now)
    assert with_cdr.ended_at == T0 + timedelta(seconds=20)
    assert without.ended_at == restart_at  # it cannot have outlived the Asterisk that carried it
    assert without.cause.startswith("Asterisk restarted")
    after_restart = closure(
        Rec("b", "main-1.2", started_at=now), asterisk_started_at=restart_at, cdr_end=None, noticed_at=now
    )
    assert after_restart.cause.startswith("channel gone while the controller was away")


def test_an_end_before_the_start_is_clamped() -> None:
    end = closure(
        Rec("a", "main-1.1"), asterisk_started_at=None, cdr_end=T0 - timedelta(hours=1), noticed_at=T0
    )
    assert end.ended_at == T0


def test_only_a_node_that_hangs_up_ends_the_call_with_its_outcome() -> None:
    echo, errors = load_file(SHIPPED_DIR / "echo.yaml")
    assert echo is not None, errors
    assert hangup_outcome(echo, "bye") == "completed"  # the goodbye names it
    assert [hangup_outcome(echo, n) for n in ("hello", "digits", "readback", "gone", None)] == [None] * 5
    assert hangup_outcome(None, "bye") is None  # flow unknown: nothing known of its nodes
    nodes = {**echo.nodes, "quiet": Hangup("quiet", {}), "later": Hangup("later", {"outcome": "callback"})}
    changed = replace(echo, nodes=nodes)
    assert (hangup_outcome(changed, "quiet"), hangup_outcome(changed, "later")) == ("completed", "callback")


def test_a_record_left_at_the_goodbye_is_closed_as_the_ivr_hanging_up() -> None:
    """The kill took the record's end, not the call's: the IVR was hanging up after its goodbye."""
    now = T0 + timedelta(minutes=1)
    said_bye = closure(
        Rec("a", "main-1.1"),
        asterisk_started_at=None,
        cdr_end=None,
        noticed_at=now,
        ended_by_flow="completed",
    )
    assert (said_bye.outcome, said_bye.cause, said_bye.ended_at) == ("completed", IVR_HUNG_UP, now)
    # An operator's call keeps its own rule; an Asterisk restart cut the goodbye itself.
    talked = closure(
        Rec("b", "main-1.2", agent="3101"),
        asterisk_started_at=None,
        cdr_end=None,
        noticed_at=now,
        ended_by_flow="callback",
    )
    assert (talked.outcome, talked.cause) == (
        "completed",
        "channel gone while the controller was away (talking to operator 3101)",
    )
    restart = closure(
        Rec("c", "main-1.3"), asterisk_started_at=now, cdr_end=None, noticed_at=now, ended_by_flow="completed"
    )
    assert (restart.outcome, restart.cause) == ("abandoned", "Asterisk restarted (in the flow)")
