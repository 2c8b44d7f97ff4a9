"""CallRecovery with fakes: an Asterisk restart seen at the reconnection, records a crash left open
closed with the right outcome, cause and end time, and calls that took the dialplan fallback imported
once from the CDR file."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ivr.calls.cdr_file import CdrTail
from ivr.calls.orphans import IVR_HUNG_UP
from ivr.calls.recovery import CallRecovery
from ivr.flows.loader import SHIPPED_DIR, load_file
from ivr.flows.model import Flow
from ivr.store import OpenCall

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NAME = "main"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def info(started: datetime) -> dict[str, Any]:
    return {"config": {"name": NAME}, "status": {"startup_time": started.isoformat()}}


def open_call(call_id: str, channel: str, *, started: float = 0, queue: str | None = None,
              agent: str | None = None, flow: str = "acd_lines",
              last_node: str | None = None) -> OpenCall:  # fmt: skip
    return OpenCall(
        id=call_id,
        channel_id=channel,
        flow=flow,
        last_node=last_node,
        started_at=at(started),
        answered_at=None,
        caller_number="0355550201",
        caller_name=None,
        dialed="7705",
        queue=queue,
        agent=agent,
    )


class Store:
    """The store's side: open calls to read, and the writes the recorder applies."""

    def __init__(self) -> None:
        self.open: list[OpenCall] = []
        self.fail: Exception | None = None
        self.closed: list[tuple[str, datetime, str, str]] = []
        self.imported: list[dict[str, Any]] = []

    async def open_calls(self, limit: int = 10_000) -> list[OpenCall]:
        if self.fail is not None:
            raise self.fail
        return list(self.open)

    async def close_lost_call(self, call_id: str, ended_at: datetime, outcome: str, cause: str) -> bool:
        self.closed.append((call_id, ended_at, outcome, cause))
        return True

    async def import_fallback_call(self, **fields: Any) -> bool:
        self.imported.append(fields)
        return True


class Recorder:
    """Write-behind stand-in: writes wait until ``apply`` (so a test sees what is committed when)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.pending: list[Any] = []

    def submit(self, write: Any) -> bool:
        self.pending.append(write)
        return True

    async def apply(self) -> None:
        pending, self.pending = self.pending, []
        for write in pending:
            await write(self.store)


class Queue:
    def __init__(self) -> None:
        self.left: list[tuple[str, str]] = []

    def enter(self, request: Any, post: Any) -> None:
        raise AssertionError("not used")

    def leave(self, call_id: str, reason: str, *, callback_number: str | None = None) -> None:
        self.left.append((call_id, reason))

    def request_callback(self, call_id: str, number: str, queue: str, note: str | None) -> None:
        raise AssertionError("not used")


class Flows:
    """The flows the controller runs: the shipped echo line only."""

    def get(self, name: str) -> Flow:
        flow, errors = load_file(SHIPPED_DIR / "echo.yaml")
        if flow is None or name != flow.name:
            raise KeyError(name, errors)
        return flow

    def for_number(self, dialed: str) -> Flow:
        return self.get("echo")


class Env:
    def __init__(self, tmp_path: Path, *, cdr: bool = False) -> None:
        self.store = Store()
        self.recorder = Recorder(self.store)
        self.queue = Queue()
        self.info: Mapping[str, Any] | Exception = info(T0)
        self.known: set[str] = set()
        self.now = at(100)
        self.cdr_path = tmp_path / "Master.csv"
        self.tail = CdrTail(self.cdr_path, tmp_path / "cdr-import.json") if cdr else None
        self.flows = Flows()
        self.recovery = self.new_recovery()

    def new_recovery(self) -> CallRecovery:
        """A controller process: a new one starts from the committed CDR position."""
        return CallRecovery(
            store=self.store,
            recorder=self.recorder,  # type: ignore[arg-type]
            asterisk_info=self.asterisk_info,
            known_calls=lambda: set(self.known),
            queue=self.queue,
            cdr=CdrTail(self.cdr_path, self.cdr_path.parent / "cdr-import.json") if self.tail else None,
            clock=lambda: self.now,
            flows=self.flows,
        )

    async def asterisk_info(self) -> Mapping[str, Any]:
        if isinstance(self.info, Exception):
            raise self.info
        return self.info

    async def resync(self, live: set[str]) -> None:
        """What the call manager does at each (re)connection, then the recorder catches up."""
        await self.recovery.before_adopt(live)
        await self.recovery.on_resync(live)
        await self.recovery.wait()
        await self.recorder.apply()


def cdr_line(uniqueid: str, *, context: str = "controller-away", userfield: str = "", end: str) -> str:
    fields = ["", "0355550101", "s", context, '"" <0355550101>', "PJSIP/trunk-1", "", "Hangup", "",
              "2026-12-01 09:00:00", "2026-12-01 09:00:01", end, "5", "4", "ANSWERED", "DOCUMENTATION",
              uniqueid, userfield]  # fmt: skip
    return ",".join(f'"{v}"' for v in fields) + "\n"


async def test_a_changed_asterisk_start_time_is_a_restart(tmp_path: Path) -> None:
    env = Env(tmp_path)
    await env.resync(set())
    assert env.recovery.gone_cause() is None  # the first connection: nothing to compare with
    await env.resync(set())
    assert env.recovery.gone_cause() is None  # same Asterisk: a WebSocket blip
    env.info = info(at(50))
    await env.resync(set())
    assert env.recovery.gone_cause() == "Asterisk restarted"
    env.info = OSError("connection refused")
    await env.resync(set())
    assert env.recovery.gone_cause() is None  # unreadable: not called a restart


async def test_lost_records_of_this_asterisk_are_closed_and_their_operator_freed(tmp_path: Path) -> None:
    env = Env(tmp_path)
    await env.resync(set())
    env.info = info(at(50))  # Asterisk restarted at 50 s
    env.store.open = [
        open_call("talked", f"{NAME}-1.1", agent="3108", queue="t_solo"),
        open_call("waited", f"{NAME}-1.2", queue="t_solo"),
        open_call("in-flow", f"{NAME}-1.3"),
        open_call("live", f"{NAME}-1.4"),  # its channel is still there (adopted)
        open_call("in-memory", f"{NAME}-1.5"),  # a call task owns it: it ends itself
        open_call("other-node", "node2-1.6"),  # another Asterisk's call in a shared database
        open_call("too-new", f"{NAME}-1.7", started=120),  # began after the channels were listed
    ]
    env.known = {"in-memory"}
    await env.resync({f"{NAME}-1.4"})
    assert sorted(env.store.closed) == [
        ("in-flow", at(50), "abandoned", "Asterisk restarted (in the flow)"),
        ("talked", at(50), "completed", "Asterisk restarted (talking to operator 3108)"),
        ("waited", at(50), "abandoned", "Asterisk restarted (waiting in queue t_solo)"),
    ]
    assert sorted(call_id for call_id, _ in env.queue.left) == ["in-flow", "talked", "waited"]


async def test_a_call_gone_while_no_controller_ran_ends_at_its_cdr_end(tmp_path: Path) -> None:
    env = Env(tmp_path, cdr=True)
    env.cdr_path.write_text(cdr_line(f"{NAME}-1.1", context="from-trunk", end="2026-12-01 09:00:40"))
    env.store.open = [open_call("hung-up", f"{NAME}-1.1")]
    await env.resync(set())
    assert env.store.closed == [
        ("hung-up", at(40), "abandoned", "channel gone while the controller was away (in the flow)")
    ]
    assert env.store.imported == []  # not a fallback row


async def test_a_record_whose_last_node_hung_up_is_closed_as_completed(tmp_path: Path) -> None:
    """The kill came after the IVR's goodbye and before the write-behind saved the record's end."""
    env = Env(tmp_path)
    env.store.open = [
        open_call("said-bye", f"{NAME}-1.1", flow="echo", last_node="bye"),
        open_call("keying", f"{NAME}-1.2", flow="echo", last_node="digits"),
        open_call("flow-gone", f"{NAME}-1.3", flow="removed", last_node="bye"),
    ]
    await env.resync(set())
    away = "channel gone while the controller was away (in the flow)"
    assert sorted(env.store.closed) == [
        ("flow-gone", at(100), "abandoned", away),
        ("keying", at(100), "abandoned", away),
        ("said-bye", at(100), "completed", IVR_HUNG_UP),
    ]


async def test_fallback_calls_are_imported_once_with_the_dialed_number(tmp_path: Path) -> None:
    env = Env(tmp_path, cdr=True)
    env.cdr_path.write_text(
        cdr_line(f"{NAME}-1.1", userfield="100", end="2026-12-01 09:00:05")
        + cdr_line(f"{NAME}-1.2", context="from-trunk", end="2026-12-01 09:00:06")
    )
    await env.resync(set())
    [imported] = env.store.imported
    assert (imported["channel_id"], imported["dialed"], imported["outcome"], imported["cause"]) == (
        f"{NAME}-1.1",
        "100",
        "failed",
        "controller away: dialplan fallback",
    )
    assert imported["ended_at"] == at(5)
    await env.resync(set())
    env.recovery = env.new_recovery()  # a restarted controller: the committed position holds
    await env.resync(set())
    assert len(env.store.imported) == 1
    with env.cdr_path.open("a") as f:
        f.write(cdr_line(f"{NAME}-1.3", userfield="7705", end="2026-12-01 09:01:00"))
    await env.resync(set())
    assert [i["dialed"] for i in env.store.imported] == ["100", "7705"]


async def test_the_cdr_position_is_kept_only_once_the_store_has_the_records(tmp_path: Path) -> None:
    env = Env(tmp_path, cdr=True)
    env.cdr_path.write_text(cdr_line(f"{NAME}-1.1", end="2026-12-01 09:00:05"))
    await env.recovery.before_adopt(set())
    await env.recovery.on_resync(set())
    await env.recovery.wait()
    env.recorder.pending.clear()  # the controller died before the recorder wrote anything
    env.recovery = env.new_recovery()
    await env.resync(set())
    assert [i["channel_id"] for i in env.store.imported] == [f"{NAME}-1.1"]


async def test_an_unreadable_store_is_retried_at_the_next_connection(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = Env(tmp_path)
    env.store.open = [open_call("lost", f"{NAME}-1.1")]
    env.store.fail = OSError("database is locked")
    await env.resync(set())
    assert env.store.closed == []
    assert "not checked" in caplog.text
    env.store.fail = None
    await env.resync(set())
    assert [c[0] for c in env.store.closed] == ["lost"]
