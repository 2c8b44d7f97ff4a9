from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from ivr.store import CallStore, default_db_url

T0 = datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def test_open_runs_migrations_and_sets_wal(tmp_path: Path) -> None:
    store = CallStore(default_db_url(tmp_path / "nested"))
    await store.open()
    assert await store.ping()
    await store.close()
    db = tmp_path / "nested" / "ivr.db"
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        mode = conn.execute("PRAGMA journal_mode").fetchone()
    assert {"calls", "call_path", "call_inputs", "offers", "callbacks", "survey_results"} <= tables
    assert version == ("0003",)
    assert mode == ("wal",)


async def test_reopen_keeps_data_and_skips_applied_migrations(db_url: str) -> None:
    store = CallStore(db_url)
    await store.open()
    await store.call_started("c1", "ch1", "100", "A", "200", "shop", T0)
    await store.close()
    store = CallStore(db_url)
    await store.open()
    assert [c["id"] for c in await store.list_calls()] == ["c1"]
    await store.close()


async def test_full_lifecycle_in_api_shape(store: CallStore) -> None:
    await store.call_started("c1", "chan-1", "0312345678", "山田 太郎", "0501234", "shop", at(0))
    await store.call_answered("c1", at(0.4))
    await store.node_entered("c1", "welcome", at(0.5))
    await store.node_entered("c1", "menu", at(3))
    await store.input_taken("c1", "menu", "dtmf", "2", False, at(5))
    await store.node_entered("c1", "card", at(5.1))
    await store.input_taken("c1", "card", "dtmf", "************1234", True, at(9))
    await store.node_entered("c1", "menu", at(9.5))
    await store.input_taken("c1", "menu", "speech", "order status", False, at(12))
    await store.node_entered("c1", "to_agent", at(12.1))
    await store.queue_entered("c1", "orders", at(12.2))
    await store.offer_started("c1", "alice", at(13))
    await store.offer_ended("c1", "alice", at(28), "rona")
    await store.offer_started("c1", "bob", at(28.5))
    await store.offer_answered("c1", "bob", at(33))
    await store.offer_ended("c1", "bob", at(33), "answered")
    await store.survey_answered("c1", 5, at(200), question="csat")
    cb = await store.callback_requested("c1", "0312345678", "tomorrow 10:00", "re: order 42", at(190))
    await store.call_ended("c1", at(210), "completed", 16)

    [call] = await store.list_calls()
    assert call == await store.get_call("c1")
    assert call["id"] == "c1"
    assert call["caller"] == {"number": "0312345678", "name": "山田 太郎"}
    assert call["dialed"] == "0501234"
    assert call["flow"] == "shop"
    assert call["started_at"] == "2025-03-01T09:00:00Z"
    assert call["answered_at"] == "2025-03-01T09:00:00.400000Z"
    assert call["ended_at"] == "2025-03-01T09:03:30Z"
    assert call["path"] == ["welcome", "menu", "card", "menu", "to_agent"]
    assert call["inputs"] == [
        {"kind": "dtmf", "value": "2", "node": "menu", "sensitive": False, "at": "2025-03-01T09:00:05Z"},
        {
            "kind": "dtmf",
            "value": "************1234",
            "node": "card",
            "sensitive": True,
            "at": "2025-03-01T09:00:09Z",
        },
        {
            "kind": "speech",
            "value": "order status",
            "node": "menu",
            "sensitive": False,
            "at": "2025-03-01T09:00:12Z",
        },
    ]
    assert call["queue"] == "orders"
    assert call["agent"] == "bob"
    assert call["offers"] == [
        {
            "agent": "alice",
            "ring_started_at": "2025-03-01T09:00:13Z",
            "answered_at": None,
            "ended_at": "2025-03-01T09:00:28Z",
            "outcome": "rona",
            "ring_s": 15.0,
            "rings": 5.0,
        },
        {
            "agent": "bob",
            "ring_started_at": "2025-03-01T09:00:28.500000Z",
            "answered_at": "2025-03-01T09:00:33Z",
            "ended_at": "2025-03-01T09:00:33Z",
            "outcome": "answered",
            "ring_s": 4.5,
            "rings": 1.5,
        },
    ]
    assert call["ring_to_answer_s"] == 4.5
    assert call["rings"] == 1.5  # 3 s ring cycle
    assert call["outcome"] == "completed"
    assert call["hangup_cause"] == "16"
    assert await store.survey_results("c1") == [
        {"question": "csat", "score": 5, "at": "2025-03-01T09:03:20Z"}
    ]
    [callback] = await store.list_callbacks()
    assert callback["id"] == cb
    assert callback["status"] == "pending"
    assert callback["preferred_time"] == "tomorrow 10:00"
    assert await store.set_callback_status(cb, "done")
    assert (await store.list_callbacks(status="done"))[0]["id"] == cb


async def test_record_exists_from_first_write(store: CallStore) -> None:
    await store.node_entered("adopted", "menu", at(1))
    call = await store.get_call("adopted")
    assert call is not None
    assert call["path"] == ["menu"]
    assert call["started_at"] == "2025-03-01T09:00:01Z"
    assert call["caller"] == {"number": None, "name": None}
    assert call["offers"] == [] and call["ring_to_answer_s"] is None and call["rings"] is None


async def test_newest_first_and_limit(store: CallStore) -> None:
    for i in range(5):
        await store.call_started(f"c{i}", f"ch{i}", "1", "n", "2", "shop", at(i))
    assert [c["id"] for c in await store.list_calls(limit=3)] == ["c4", "c3", "c2"]
    with pytest.raises(ValueError):
        await store.list_calls(limit=0)


async def test_times_are_utc_whatever_zone_is_given(store: CallStore) -> None:
    tokyo = timezone(timedelta(hours=9))
    await store.call_started("c1", "ch", "1", "n", "2", "shop", datetime(2025, 3, 1, 18, 0, tzinfo=tokyo))
    call = await store.get_call("c1")
    assert call is not None and call["started_at"] == "2025-03-01T09:00:00Z"
    with pytest.raises(ValueError, match="naive"):
        await store.call_answered("c1", datetime(2025, 3, 1, 9, 0))


async def test_find_open_call_by_channel(store: CallStore) -> None:
    await store.call_started("old", "chan-x", "1", "n", "2", "shop", at(0))
    await store.call_ended("old", at(5), "completed", "normal")
    assert await store.find_open_call_by_channel("chan-x") is None
    await store.call_started("new", "chan-x", "1", "n", "2", "shop", at(10))
    await store.node_entered("new", "menu", at(11))
    await store.node_entered("new", "card", at(12))
    found = await store.find_open_call_by_channel("chan-x")
    assert found is not None
    assert (found.id, found.flow, found.last_node, found.channel_id) == ("new", "shop", "card", "chan-x")
    assert found.started_at == at(10) and found.answered_at is None
    await store.call_started("bare", "chan-y", None, None, None, None, at(20))
    bare = await store.find_open_call_by_channel("chan-y")
    assert bare is not None and bare.last_node is None and bare.flow is None
    assert await store.get_call("missing") is None


async def test_hostile_names_stored_verbatim(store: CallStore) -> None:
    names = ['"; DROP TABLE calls; --', "<script>alert(1)</script>", 'O\'Brien "Bob"', "山田", "%s %(x)s ?"]
    for i, name in enumerate(names):
        await store.call_started(f"c{i}", f"ch{i}", "1", name, "2", "shop", at(i))
    got = {c["id"]: c["caller"]["name"] for c in await store.list_calls()}
    assert got == {f"c{i}": name for i, name in enumerate(names)}


async def test_ping_false_when_closed(db_url: str) -> None:
    store = CallStore(db_url)
    assert not await store.ping()
    await store.open()
    assert await store.ping()
    await store.close()
    assert not await store.ping()


@pytest.mark.parametrize(("cycle_s", "rings"), [(6.0, 0.67), (3.0, 1.33), (2.0, 2.0)])
async def test_rings_use_the_site_ring_cycle(store_url: str, cycle_s: float, rings: float) -> None:
    store = CallStore(store_url, ring_cycle_s=cycle_s)
    await store.open()
    try:
        await store.call_started("c1", "ch1", "100", "A", "200", "shop", at(0))
        await store.offer_started("c1", "alice", at(10))
        await store.offer_answered("c1", "alice", at(14))  # 4 s of ringing
        call = await store.get_call("c1")
        assert call is not None
        assert call["ring_to_answer_s"] == 4.0
        assert call["rings"] == rings
        [listed] = await store.list_calls()
        assert listed["rings"] == rings
    finally:
        await store.close()


def test_ring_cycle_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ring_cycle_s"):
        CallStore("sqlite+aiosqlite:///unused.db", ring_cycle_s=0)


async def test_agent_states_restore_latest_and_log_the_window(store: CallStore) -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await store.agent_state_changed("2101", "available", None, None, t0)
    await store.agent_state_changed("2102", "paused", "break", None, t0)
    await store.agent_state_changed("2101", "on_call", None, "call-1", t0 + timedelta(minutes=5))
    latest = {r.agent: (r.state, r.reason, r.call_id) for r in await store.latest_agent_states()}
    assert latest == {"2101": ("on_call", None, "call-1"), "2102": ("paused", "break", None)}
    window = await store.agent_state_log(t0 + timedelta(minutes=1), None)
    assert [(r.agent, r.state) for r in window] == [
        ("2101", "available"),
        ("2102", "paused"),
        ("2101", "on_call"),
    ]


async def test_close_open_offers_ends_the_answered_one_and_cancels_the_rest(store: CallStore) -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await store.offer_started("c1", "2101", t0)
    await store.offer_answered("c1", "2101", t0 + timedelta(seconds=4))
    await store.offer_started("c1", "2102", t0)
    await store.close_open_offers("c1", t0 + timedelta(minutes=2), "answered")
    call = await store.get_call("c1")
    assert call is not None
    assert [(o["agent"], o["outcome"]) for o in call["offers"]] == [
        ("2101", "answered"),
        ("2102", "cancelled"),
    ]
    assert all(o["ended_at"] is not None for o in call["offers"])


async def test_close_open_offers_if_the_caller_is_still_there(store: CallStore) -> None:
    """After a restart: a caller still there waits again (its answered offer failed); a caller gone is
    left open for the recovery of lost records; a call already ended with the operator who answered
    talked with them (it went on after the answer; the kill took only the offer's end): answered."""
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    for call, channel in (("here", "main-1.1"), ("gone", "main-1.2"), ("ended", "main-1.3")):
        await store.call_started(call, channel, "1", "", "7705", "acd_lines", t0)
        await store.offer_started(call, "2101", t0)
        await store.offer_answered(call, "2101", t0 + timedelta(seconds=2))
    await store.call_ended("ended", t0 + timedelta(seconds=30), "completed", "ivr hung up")
    live = {"main-1.1", "leg-x-o1"}
    for call in ("here", "gone", "ended"):
        await store.close_open_offers(
            call, t0 + timedelta(minutes=1), "failed:controller restarted", if_caller_in=live
        )
    outcomes: dict[str, list[str | None]] = {}
    for call in ("here", "gone", "ended"):
        record = await store.get_call(call)
        assert record is not None
        outcomes[call] = [o["outcome"] for o in record["offers"]]
    assert outcomes == {
        "here": ["failed:controller restarted"],
        "gone": [None],
        "ended": ["answered"],
    }


async def test_close_open_offers_answered_by_the_operator_the_caller_talked_with(store: CallStore) -> None:
    """A restarted controller found the conversation (the operator gone from its bridge); the write of
    the answer was lost: that operator's offer is the answered one, the others are cancelled."""
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await store.call_started("c1", "main-1.1", "1", "", "7702", "acd_lines", t0)
    await store.offer_started("c1", "3101", t0)
    await store.offer_started("c1", "3102", t0)
    await store.close_open_offers("c1", t0 + timedelta(seconds=20), "answered", answered_by="3102")
    record = await store.get_call("c1")
    assert record is not None
    assert record["agent"] == "3102"
    assert [(o["agent"], o["outcome"], o["answered_at"]) for o in record["offers"]] == [
        ("3101", "cancelled", None),
        ("3102", "answered", None),
    ]


async def test_an_offer_ended_answered_whose_answer_was_lost_names_the_operator(store: CallStore) -> None:
    """The kill took ``offer_answered``; the next controller took the conversation back and ends it."""
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await store.call_started("c1", "main-1.1", "1", "", "7702", "acd_lines", t0)
    await store.offer_started("c1", "3102", t0)
    await store.offer_ended("c1", "3102", t0 + timedelta(seconds=9), "answered")
    record = await store.get_call("c1")
    assert record is not None
    assert record["agent"] == "3102"
    assert [(o["outcome"], o["answered_at"]) for o in record["offers"]] == [("answered", None)]


async def test_callback_attempts_are_listed_with_their_callback(store: CallStore) -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    await store.callback_requested("c9", "0312345678", None, None, t0)
    await store.callback_attempt("c9", 1, "failed:19 no answer", t0 + timedelta(minutes=1))
    await store.callback_attempt("c9", 2, "answered", t0 + timedelta(minutes=3))
    await store.set_callbacks_of_call("c9", "done")
    (row,) = await store.list_callbacks()
    assert row["status"] == "done"
    assert [(a["attempt"], a["outcome"]) for a in row["attempts"]] == [
        (1, "failed:19 no answer"),
        (2, "answered"),
    ]
