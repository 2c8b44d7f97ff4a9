"""The controller SIGKILLed and restarted 20 times in a row under a load of calls, on the real Asterisk.

The load: IVR callers on the digit echo line (100), callers waiting for SIPp operators and callers
talking to them (tests/integration/flows/acd_lines.yaml: one queue and one operator per number). While
it runs, the controller (``ivr serve``) is killed outright (SIGKILL: no clean shutdown) 1.5–3 s after
each restart has adopted the calls, and started again at once.

What must hold: no caller is dropped (every SIPp call ends normally: its read-back or its operator, then
the IVR's BYE); every record is whole (its path is a walk of its flow's graph from a safe point: a node
repeated where an adopted call resumed, never one skipped; a waiting caller keeps its arrival time and
its place in line; one whose last writes a kill took is closed by the next controller from what
Asterisk still shows, consistently: the IVR's goodbye reached means completed, an operator's answered
offer with the caller gone means they talked); each restart adopts the calls in progress within
``ADOPT_LIMIT_S`` (the figures are printed: ``-s`` shows them); callers arriving while no controller
runs hear the dialplan's apology (Asterisk answers and hangs up) and their calls are recorded as such.
"""

from __future__ import annotations

import asyncio
import csv
import itertools
import math
import random
import re
import shutil
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from ivr.calls.orphans import CONTROLLER_AWAY
from ivr.flows.loader import SHIPPED_DIR, load_file
from ivr.flows.model import Flow
from ivr.testing.sipp import SippResult
from ivr.testing.stack import ControllerProcess, TestPbx, rtp_ports_for, start_test_pbx
from tests.integration.calls import call, dtmf_values
from tests.integration.phones import AgentPhone, available, register
from tests.integration.recorded_line import ari_get

pytestmark = pytest.mark.asterisk

HERE = Path(__file__).resolve().parent
KILLS = 20
ADOPT_LIMIT_S = 5.0  # asserted per restart (target: 2 s), from the new process's start to adoption done
KILL_AFTER_S = (1.5, 3.0)  # a kill this long after each restart adopted the calls…
LONG_WINDOW_EVERY, LONG_WINDOW_S = 5, 6.0  # …and now and then longer: callers get past a long prompt
CALL_TIMEOUT_S = 240.0  # a caller may sit through the whole loop (a prompt longer than the windows)
PLACE_BEFORE_KILL_S = 1.0  # no call is placed this close to a kill (it would take the fallback)
IVR_AT_ONCE = 3
QUEUE_LINES = {
    "7701": ("3101", "t_returns", 2),
    "7702": ("3102", "t_orders", 2),
    "7705": ("3108", "t_solo", 3),
}
"""Number dialled → (its one operator, its queue, callers in line or talking at once)."""
TALK_MS = 4000
CALLER_PREFIX = {"ivr": "035577", "queue": "036677", "outage": "037777"}
FALLBACK_CAUSE = re.compile(r"fallback", re.IGNORECASE)
_RESYNC = re.compile(
    r"^(\S+ \S+) INFO\s+ivr\.calls\.manager: resync: (\d+) calls adopted in ([\d.]+) s", re.M
)


@dataclass
class Placed:
    kind: str  # "ivr" | "queue" | "outage" (placed while no controller ran)
    caller: str
    service: str
    digits: str
    placed_at: float  # time.time()
    task: asyncio.Task[SippResult]
    ended_at: float | None = None


@dataclass
class Restart:
    killed_at: float
    started_at: float
    adopted_at: float = 0.0
    adopted: int = 0
    resync_s: float = 0.0

    @property
    def start_to_adopted_s(self) -> float:
        return self.adopted_at - self.started_at

    @property
    def outage_s(self) -> float:
        return self.adopted_at - self.killed_at


@dataclass
class Load:
    """Keeps a steady mix of calls in progress while the controller is up."""

    running: TestPbx
    tmp_path: Path
    placed: list[Placed] = field(default_factory=list)
    numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    kill_at: float = math.inf  # time.time() of the next kill

    def in_flight(self, kind: str, service: str | None = None) -> int:
        return sum(
            1 for p in self.placed if p.kind == kind and not p.task.done() and service in (None, p.service)
        )

    def place(self, kind: str, service: str) -> Placed:
        n = next(self.numbers)
        caller = f"{CALLER_PREFIX[kind]}{n:04d}"
        digits = f"{n % 1000:03d}#" if kind == "ivr" else ""
        if kind == "queue":
            coro = call(
                self.running,
                self.tmp_path,
                service=service,
                caller=caller,
                trailing_silence_s=10,
                timeout_s=CALL_TIMEOUT_S,
            )
        else:
            coro = call(
                self.running,
                self.tmp_path,
                service=service,
                digits=digits,
                lead_silence_s=5.0,
                caller=caller,
                timeout_s=CALL_TIMEOUT_S if kind == "ivr" else 60.0,
            )
        placed = Placed(kind, caller, service, digits, time.time(), asyncio.create_task(coro))
        placed.task.add_done_callback(lambda _t: setattr(placed, "ended_at", time.time()))
        self.placed.append(placed)
        return placed

    async def keep_coming(self, up: asyncio.Event, stop: asyncio.Event) -> None:
        """Top the calls up to their numbers while the controller runs and is not about to be killed
        (a call placed then reaches Asterisk before the kill, whatever SIPp's start-up takes)."""
        while not stop.is_set():
            if up.is_set() and self.kill_at - time.time() > PLACE_BEFORE_KILL_S:
                wanted = [("ivr", "100")] * (IVR_AT_ONCE - self.in_flight("ivr"))
                for number, (_agent, _queue, at_once) in QUEUE_LINES.items():
                    wanted += [("queue", number)] * (at_once - self.in_flight("queue", number))
                for kind, service in wanted[:3]:
                    self.place(kind, service)
            await asyncio.sleep(0.25)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[TestPbx, ControllerProcess]]:
    """A private Asterisk and controller (this test kills the controller), with the test operators,
    queues and queue lines of the session controller (tests/integration/conftest.py)."""
    running = start_test_pbx(tmp_path / "pbx", rtp_ports=rtp_ports_for(30))
    flows = tmp_path / "site-flows"
    flows.mkdir()
    shutil.copy(HERE / "flows" / "acd_lines.yaml", flows / "acd_lines.yaml")
    shutil.copy(HERE / "acd" / "agents.yaml", tmp_path / "agents.yaml")
    shutil.copy(HERE / "acd" / "queues.yaml", tmp_path / "queues.yaml")
    proc = ControllerProcess(
        env={
            **running.env,
            "IVR_AGENTS_FILE": str(tmp_path / "agents.yaml"),
            "IVR_QUEUES_FILE": str(tmp_path / "queues.yaml"),
            "IVR_FLOWS_DIR": str(flows),
            "IVR_HOURS_OVERRIDE": "open",
            "IVR_LOG_LEVEL": "INFO",
            # Voices are not under test: espeak-ng keeps the prompts' synthesis (in the background, and
            # on demand for the first callers) off the cores the load needs.
            "IVR_TTS": "espeak",
            # Nor is speech (both lines are keys only): no recognisers loading after each restart.
            "IVR_ASR": "off",
        },
        log_path=running.data_dir / "controller.log",
    )
    try:
        proc.start()
        yield running, proc
    finally:
        proc.stop()
        running.stop()


async def test_twenty_sigkills_under_load_drop_no_call_and_lose_no_record(
    stack: tuple[TestPbx, ControllerProcess], tmp_path: Path
) -> None:
    running, proc = stack
    phones = [
        await register(running, agent, answer_ms=1000, talk_ms=TALK_MS, calls=500, timeout_s=400)
        for agent, _queue, _n in QUEUE_LINES.values()
    ]
    load = Load(running, tmp_path)
    up, stop = asyncio.Event(), asyncio.Event()
    restarts: list[Restart] = []
    waiting_at: dict[str, str] = {}  # caller → queued_at seen while it waited
    generator = asyncio.create_task(load.keep_coming(up, stop))
    try:
        await available(proc, *(agent for agent, _q, _n in QUEUE_LINES.values()))
        up.set()
        pace = random.Random(10)
        for kill in range(KILLS):
            window = (
                LONG_WINDOW_S
                if kill % LONG_WINDOW_EVERY == LONG_WINDOW_EVERY - 1
                else pace.uniform(*KILL_AFTER_S)
            )
            load.kill_at = time.time() + window
            await asyncio.sleep(load.kill_at - time.time())
            await asyncio.to_thread(_note_waiting, proc, waiting_at)
            up.clear()
            killed_at = time.time()
            proc.kill()
            if kill % 2 == 0:
                placed = load.place("outage", "100")  # reaches Asterisk while no controller runs
                await _until_at_asterisk(running, placed.caller)
            restart = Restart(killed_at, time.time())
            seen = len(_resync_lines(proc))
            await asyncio.to_thread(proc.start)
            await _until(lambda seen=seen: len(_resync_lines(proc)) > seen, 15, "resync after restart", proc)
            stamp, restart.adopted, restart.resync_s = _resync_lines(proc)[seen]
            restart.adopted_at = stamp.timestamp()
            restarts.append(restart)
            load.kill_at = math.inf
            up.set()
        stop.set()
        await generator
        results = await asyncio.gather(*(p.task for p in load.placed))
    finally:
        stop.set()
        generator.cancel()
        for placed in load.placed:
            placed.task.cancel()
        took = [await phone.hang_up() for phone in phones]

    _report(restarts, load, took, phones)
    dropped = [
        (p.kind, p.caller, r.describe()) for p, r in zip(load.placed, results, strict=True) if not r.ok
    ]
    assert dropped == [], f"{len(dropped)} of {len(results)} calls not ended normally: {dropped[:3]}"

    fallback = _fallback_callers(running)
    outage = [p for p in load.placed if p.kind == "outage"]
    assert outage and all(p.caller in fallback for p in outage), (
        f"callers placed while no controller ran did not get the dialplan fallback: "
        f"{[p.caller for p in outage if p.caller not in fallback]}"
    )
    records = await _records_when_ended(proc, [p.caller for p in load.placed if p.caller not in fallback])
    echo, lines = _flows(tmp_path)
    kills = [r.killed_at for r in restarts]
    problems: list[str] = []  # every record checked, every problem listed (one run shows them all)
    for placed in load.placed:
        if placed.caller in fallback:
            continue
        record = records[placed.caller]
        if placed.kind == "ivr":
            problems += _ivr_record_problems(record, placed, echo, adopted=_spans_a_kill(placed, kills))
        else:
            problems += _queue_record_problems(record, placed, lines, waiting_at.get(placed.caller), kills)
    served = [records[p.caller] for p in load.placed if p.kind == "queue" and p.caller in records]
    problems += _queue_order_problems(served)
    problems += [
        f"restart {n}: calls adopted {r.start_to_adopted_s:.2f} s after the process started"
        for n, r in enumerate(restarts, 1)
        if r.start_to_adopted_s >= ADOPT_LIMIT_S
    ]
    problems += await _fallback_record_problems(proc, sorted(fallback & {p.caller for p in load.placed}))
    assert problems == [], "\n".join(problems)
    assert len(served) >= KILLS, f"too few callers reached an operator to prove much: {len(served)}"
    assert "Traceback" not in proc.log_text(), proc.log_tail(200)


# --- the records -------------------------------------------------------------------------------------


def _walk_problem(path: list[str], flow: Flow) -> str | None:
    """Why ``path`` is not a walk of ``flow`` from its entry (None when it is). A node may repeat where an
    adopted call resumed at the last node it had entered; no node may be skipped."""
    if not path or path[0] != flow.entry:
        return f"path does not start at the entry {flow.entry!r}"
    for here, there in itertools.pairwise(path):
        if there == here:
            continue  # resumed after a restart at the node it was in
        if there not in {edge.target for edge in flow.nodes[here].targets()}:
            return f"{here!r} → {there!r} is not an edge of flow {flow.name!r}"
    return None


def _ivr_record_problems(record: dict[str, Any], placed: Placed, echo: Flow, *, adopted: bool) -> list[str]:
    path, keyed, taken = record["path"], placed.digits.rstrip("#"), dtmf_values(record)
    ended = f"{record['outcome']}: {record['hangup_cause']}"
    what = f"IVR caller {placed.caller} (path {path}, keys {taken}, {ended})"
    problems = [f"{what}: {p}" for p in [_walk_problem(path, echo)] if p is not None]
    if record["outcome"] != "completed" or path[-1:] != ["bye"]:
        problems.append(f"{what}: did not complete the flow")
    if not adopted and (path != ["hello", "digits", "readback", "bye"] or taken != [keyed]):
        problems.append(f"{what}: no kill while it lasted, yet not the plain call (keyed {keyed})")
    # Keys pressed while no controller ran are lost: what was taken is the tail of what was keyed.
    if adopted and not all(keyed.endswith(value) for value in taken):
        problems.append(f"{what}: keys taken that were not keyed ({keyed})")
    if ("readback" in path) != bool(taken):
        problems.append(f"{what}: a read-back without keys, or keys without a read-back")
    return problems


def _queue_record_problems(
    record: dict[str, Any], placed: Placed, lines: Flow, waited_at: str | None, kills: list[float]
) -> list[str]:
    """Put through to its line's operator, for the whole conversation. A kill can take a record's
    latest writes; what the next controller makes of it is accepted only with a kill inside that time:
    - the conversation's end and the goodbye lost, the caller gone: the record is closed from what
      Asterisk shows (``orphans.py``: completed, the operator named in the cause, the answered offer
      answered — ``if_caller_in`` in ``acd/runtime.py``), its path may stop at the queue;
    - the answer lost, the conversation taken back: the offer ends answered without ``answered_at``
      (not known), the operator still named on the call;
    - answered but not bridged at the kill (the operator's leg still there): ``failed:controller
      restarted``, the caller waits again for a later offer.
    Every offer ends closed, and none is ``answered`` without an answer or a kill to explain it."""
    agent, queue, _n = QUEUE_LINES[placed.service]
    offers = record["offers"]
    what = f"queue caller {placed.caller} (path {record['path']}, offers {offers}, {record['hangup_cause']})"
    problems = [f"{what}: {p}" for p in [_walk_problem(record["path"], lines)] if p is not None]
    closed_after_kill = (record["hangup_cause"] or "").startswith(CONTROLLER_AWAY) and _kill_between(
        kills, record["started_at"], record["ended_at"]
    )
    put_through = (record["queue"], record["agent"], record["outcome"]) == (queue, agent, "completed")
    if not put_through or (record["path"][-1:] != ["bye"] and not closed_after_kill):
        problems.append(f"{what}: not put through to {agent} in {queue} ({record['outcome']})")
    talks = [o for o in offers if o["outcome"] == "answered" and o["agent"] == agent]
    if not talks:
        problems.append(f"{what}: no conversation with {agent}")
    elif talks[-1]["answered_at"] is not None:
        talked = (_ts(talks[-1]["ended_at"]) - _ts(talks[-1]["answered_at"])).total_seconds()
        if talked < TALK_MS / 1000 - 0.5 and not closed_after_kill:
            problems.append(f"{what}: the conversation was cut short ({talked:.1f} s)")
    for offer in offers:
        if offer["outcome"] is None or offer["ended_at"] is None:
            problems.append(f"{what}: an offer left open")
            continue
        killed = _kill_between(kills, offer["ring_started_at"], offer["ended_at"])
        if offer["outcome"] == "answered" and offer["answered_at"] is None and not killed:
            problems.append(f"{what}: an offer closed as answered that no one answered")
        if offer["outcome"] == "failed:controller restarted" and not killed:
            problems.append(f"{what}: an offer failed by a restart that did not happen")
    if waited_at is not None and record["queued_at"] != waited_at:
        problems.append(f"{what}: lost its place in line (queued at {waited_at}, now {record['queued_at']})")
    return problems


def _queue_order_problems(records: list[dict[str, Any]]) -> list[str]:
    """In each queue, callers were put through in the order they arrived (restarts kept their places)."""
    by_queue: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if record["queue"] and any(o["outcome"] == "answered" for o in record["offers"]):
            by_queue.setdefault(record["queue"], []).append(record)
    problems = []
    for queue, served in by_queue.items():
        served.sort(key=lambda r: r["queued_at"])
        answered = [_first_answer(r) for r in served]
        if answered != sorted(answered):
            order = [(r["caller"]["number"], r["queued_at"], _first_answer(r)) for r in served]
            problems.append(f"queue {queue}: put through out of arrival order: {order}")
    return problems


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _first_answer(record: dict[str, Any]) -> str:
    """When the offer that put the caller through began ringing (one operator per queue: offers follow
    one another, so this orders callers as their answers do, and it is known even when a kill took the
    answer's write)."""
    return str(next(o["ring_started_at"] for o in record["offers"] if o["outcome"] == "answered"))


def _kill_between(kills: list[float], start: str | None, end: str | None) -> bool:
    if start is None or end is None:
        return False
    since, until = _ts(start).timestamp(), _ts(end).timestamp()
    return any(since <= k <= until for k in kills)


def _spans_a_kill(placed: Placed, kills: list[float]) -> bool:
    end = placed.ended_at or time.time()
    return any(placed.placed_at - 1 <= k <= end for k in kills)


async def _records_when_ended(proc: ControllerProcess, callers: list[str]) -> dict[str, dict[str, Any]]:
    """The newest record of each caller, once every one of them has ended (records are written behind)."""
    wanted = set(callers)
    found: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = {}
        for record in await asyncio.to_thread(proc.calls, 500):
            number = record["caller"]["number"]
            if number in wanted and number not in found:
                found[number] = record  # newest first
        if set(found) == wanted and all(r["ended_at"] is not None for r in found.values()):
            return found
        await asyncio.sleep(0.5)
    missing = sorted(wanted - set(found))
    still_open = sorted(n for n, r in found.items() if r["ended_at"] is None)
    raise AssertionError(f"records missing: {missing}; records never ended: {still_open}")


def _note_waiting(proc: ControllerProcess, waiting_at: dict[str, str]) -> None:
    """Remember when each caller waiting now entered its queue (the first time it is seen waiting). Only
    an observation: a controller too starved to answer in time is not asked again before this kill."""
    try:
        records = proc.calls(100)
    except OSError as exc:  # urllib's timeouts and refusals
        print(f"waiting callers not read before a kill: {exc}")
        return
    for record in records:
        if record["queued_at"] and record["ended_at"] is None and not record.get("agent"):
            waiting_at.setdefault(record["caller"]["number"], record["queued_at"])


# --- the fallback ------------------------------------------------------------------------------------


async def _until_at_asterisk(running: TestPbx, caller: str, within_s: float = 10.0) -> None:
    """Until the caller's channel exists (SIPp may start slowly on a loaded box): only then is the
    controller started again, so the call surely arrived while none ran."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        channels = await asyncio.to_thread(ari_get, running, "/channels")
        if any(c.get("caller", {}).get("number") == caller for c in channels):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"outage caller {caller} never reached Asterisk within {within_s:g} s")


def _fallback_callers(running: TestPbx) -> set[str]:
    """Callers Asterisk's own CDR shows in the dialplan fallback (``controller-away``)."""
    master = running.pbx.log_dir / "cdr-csv" / "Master.csv"
    names = "accountcode,src,dst,dcontext,clid,channel,dstchannel,lastapp,lastdata,start,answer,end,duration"
    names += ",billsec,disposition,amaflags,uniqueid,userfield"
    rows = csv.DictReader(master.read_text().splitlines(), fieldnames=names.split(","))
    return {
        row["src"]
        for row in rows
        if row["dcontext"] == "controller-away" and row["disposition"] == "ANSWERED"
    }


async def _fallback_record_problems(proc: ControllerProcess, callers: list[str]) -> list[str]:
    """Calls that took the fallback are in the store too (imported from Asterisk's CDR), marked so."""
    records = await _records_when_ended(proc, callers)
    return [
        f"fallback caller {caller}: not recorded as a fallback call: {records[caller]}"
        for caller in callers
        if records[caller]["agent"] is not None
        or not FALLBACK_CAUSE.search(records[caller].get("hangup_cause") or "")
    ]


# --- figures and plumbing ----------------------------------------------------------------------------


def _resync_lines(proc: ControllerProcess) -> list[tuple[datetime, int, float]]:
    return [
        (datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f"), int(n), float(s))
        for stamp, n, s in _RESYNC.findall(proc.log_text())
    ]


def _report(restarts: list[Restart], load: Load, took: list[SippResult], phones: list[AgentPhone]) -> None:
    starts = [r.start_to_adopted_s for r in restarts]
    outages = [r.outage_s for r in restarts]
    resyncs = [r.resync_s for r in restarts]
    kinds = {kind: sum(1 for p in load.placed if p.kind == kind) for kind in ("ivr", "queue", "outage")}
    print(
        f"\nkill loop: {len(restarts)} SIGKILLs; calls placed {kinds}; "
        f"adopted per restart {[r.adopted for r in restarts]}\n"
        f"  process start → calls adopted: p50 {statistics.median(starts):.2f} s, max {max(starts):.2f} s "
        f"{[round(s, 1) for s in starts]}\n"
        f"  kill → calls adopted (outage): p50 {statistics.median(outages):.2f} s, max {max(outages):.2f} s\n"
        f"  resync itself: p50 {statistics.median(resyncs):.3f} s, max {max(resyncs):.3f} s\n"
        f"  operator phones (answered+hung up / failed): "
        f"{[(p.agent_id, t.successful, t.failed) for p, t in zip(phones, took, strict=True)]}"
    )


def _flows(tmp_path: Path) -> tuple[Flow, Flow]:
    queues = frozenset(yaml.safe_load((tmp_path / "queues.yaml").read_text())["queues"])
    echo, errors = load_file(SHIPPED_DIR / "echo.yaml")
    lines, more = load_file(HERE / "flows" / "acd_lines.yaml", queues=queues)
    assert echo is not None and lines is not None, errors + more
    return echo, lines


async def _until(predicate: Any, within_s: float, what: str, proc: ControllerProcess) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {within_s} s\n{proc.log_tail(60)}")
