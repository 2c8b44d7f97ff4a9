"""Every shipped and test flow driven by random callers: random keys, speech, silence (timers), stray
events and random answers from lookups, queues, transfers and recordings. The engine never raises and
after every step the call has ended or waits for something that will come (a playback, a timer, a
lookup, the queue, a transfer or a recording); an ended call has a contract outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from acd.config import load_acd
from ivr.calls.translate import VALID_DTMF
from ivr.flows import commands as c
from ivr.flows.engine import CallContext, CallState, FlowEngine
from ivr.flows.events import (
    AgentConnected,
    BackInQueue,
    DtmfReceived,
    Event,
    LookupDone,
    PlaybackDone,
    QueueDone,
    QueueStatus,
    RecordingDone,
    SpeechDropped,
    SpeechRecognized,
    TimerFired,
    TransferDone,
)
from ivr.flows.loader import SHIPPED_DIR, load_paths
from ivr.flows.model import Flow

Draw = Callable[[st.SearchStrategy[Any]], Any]
OUTCOMES = {"completed", "abandoned", "voicemail", "callback", "failed"}
_TEST_FLOWS = Path(__file__).parents[1] / "integration" / "flows"
_TEST_ACD, _ = load_acd(
    _TEST_FLOWS.parent / "acd" / "agents.yaml", _TEST_FLOWS.parent / "acd" / "queues.yaml"
)
assert _TEST_ACD is not None
_LOADED = load_paths([SHIPPED_DIR])
_LOADED_TESTS = load_paths(
    [_TEST_FLOWS], queues=_TEST_ACD.queue_names(), departments=_TEST_ACD.department_extensions()
)
FLOWS: dict[str, Flow] = {**_LOADED_TESTS.flows, **_LOADED.flows}
SHIPPED = sorted(p.stem for p in SHIPPED_DIR.glob("*.yaml"))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
lookup_data = st.none() | st.dictionaries(
    st.sampled_from(["number", "status", "name", "items", "found", "id", "customer", "price", "x"]),
    json_values,
    max_size=5,
)
words = st.sampled_from(
    ["yes", "no", "returns", "orders", "operator", "はい", "いいえ", "4271", "one two", ""]
)


@dataclass
class Waits:
    """What the call can still expect to happen, from the commands the engine issued."""

    items: set[tuple[str, str]] = field(default_factory=set)

    def apply(self, commands: list[c.Command]) -> None:
        for cmd in commands:
            match cmd:
                case c.Play(play_id=pid):
                    self.items.add(("play", pid))
                case c.StartTimer(name=name):
                    self.items.add(("timer", name))
                case c.CancelTimer(name=name):
                    self.items.discard(("timer", name))
                case c.HttpLookup(request_id=rid):
                    self.items.add(("lookup", rid))
                case c.EnterQueue(queue=queue):
                    self.items.add(("queue", queue))
                case c.LeaveQueue(queue=queue):
                    self.items.discard(("queue", queue))
                case c.Transfer(target=target):
                    self.items.add(("transfer", target))
                case c.RecordMessage(name=name):
                    self.items.add(("record", name))


def answer(kind: str, key: str, draw: Draw) -> Event:
    """A random but well-formed answer to one thing the call waits for."""
    if kind == "play":
        return PlaybackDone(key, stopped=draw(st.booleans()))
    if kind == "timer":
        return TimerFired(key)
    if kind == "lookup":
        ok = draw(st.booleans())
        return LookupDone(
            key, ok, draw(st.sampled_from([200, 404, 500, None])), draw(lookup_data), None if ok else "x"
        )
    if kind == "queue":
        queue_event: Event = draw(
            st.sampled_from(
                [
                    QueueDone(
                        key, draw(st.sampled_from(["answered", "timeout", "no_agents", "unknown_queue"]))
                    ),
                    QueueStatus(key, draw(st.integers(1, 50)), draw(st.integers(0, 3600))),
                    AgentConnected(key, "101"),
                    BackInQueue(key),
                ]
            )
        )
        return queue_event
    if kind == "transfer":
        return TransferDone(key, draw(st.sampled_from(["answered", "busy", "no_answer", "failed"])))
    return RecordingDone(key, draw(st.floats(0, 600)), draw(st.booleans()))


def settle(waits: Waits, event: Event) -> None:
    for kind, attr in (
        ("play", PlaybackDone),
        ("timer", TimerFired),
        ("lookup", LookupDone),
        ("transfer", TransferDone),
        ("record", RecordingDone),
    ):
        if isinstance(event, attr):
            key = getattr(
                event,
                {
                    "play": "play_id",
                    "timer": "name",
                    "lookup": "request_id",
                    "transfer": "target",
                    "record": "name",
                }[kind],
            )
            waits.items.discard((kind, key))
    if isinstance(event, QueueDone):
        waits.items.discard(("queue", event.queue))


def drive(flow: Flow, draw: Draw, max_events: int) -> CallState:
    engine = FlowEngine(flow)
    now = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 60 * 24 * 366)))
    lang = draw(st.sampled_from([None, "ja", "en", "fr"]))
    caller = draw(st.sampled_from(["0312345678", "", "anonymous", "+81 3-1234"]))
    step = engine.start(
        CallContext("fuzz", caller, None, draw(st.sampled_from(["", "0121", "7100"])), lang, now)
    )
    state, waits = step.state, Waits()
    waits.apply(step.commands)
    for _ in range(max_events):
        if state.finished:
            break
        assert waits.items, f"the call waits for nothing at {state.path[-3:]}"
        choice = draw(st.sampled_from(["answer", "answer", "key", "key", "speech", "asr-busy", "stray"]))
        event: Event
        if choice == "answer":
            kind, key = draw(st.sampled_from(sorted(waits.items)))
            event = answer(kind, key, draw)
        elif choice == "key":
            event = DtmfReceived(draw(st.sampled_from(sorted(VALID_DTMF))))
        elif choice == "speech":
            event = SpeechRecognized(draw(words), draw(st.floats(0, 1)), state.lang)
        elif choice == "asr-busy":
            event = SpeechDropped(state.lang)
        else:
            event = draw(
                st.sampled_from([TimerFired("nope"), PlaybackDone("nope"), QueueDone("nope", "answered")])
            )
        settle(waits, event)
        now += timedelta(seconds=draw(st.integers(0, 30)))
        step = engine.step(state, event, now)
        state = step.state
        waits.apply(step.commands)
        if any(isinstance(x, c.Hangup) for x in step.commands):
            assert state.finished
    if state.finished:
        assert state.outcome is None or state.outcome in OUTCOMES
    else:
        assert waits.items, f"the call waits for nothing at {state.path[-3:]}"
    return state


def test_every_shipped_flow_is_driven() -> None:
    assert set(SHIPPED) <= set(FLOWS), _LOADED.errors
    assert len(FLOWS) >= len(SHIPPED) + 4, _LOADED_TESTS.errors


@given(st.data())
def test_random_callers_never_break_a_flow(data: st.DataObject) -> None:
    flow = FLOWS[data.draw(st.sampled_from(sorted(FLOWS)))]
    drive(flow, data.draw, max_events=80)


@given(st.data(), st.sampled_from(SHIPPED))
def test_silence_alone_always_ends_a_shipped_call(data: st.DataObject, name: str) -> None:
    """A caller who never presses a key nor speaks: every timer and playback is answered in turn and the
    call ends (no flow loops forever on silence)."""
    engine = FlowEngine(FLOWS[name])
    now = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    step = engine.start(CallContext("quiet", "0312345678", None, "", "ja", now))
    state, waits = step.state, Waits()
    waits.apply(step.commands)
    for _ in range(500):
        if state.finished:
            break
        kind, key = data.draw(st.sampled_from(sorted(waits.items)))
        event = answer(kind, key, data.draw)
        settle(waits, event)
        step = engine.step(state, event, now)
        state = step.state
        waits.apply(step.commands)
    assert state.finished, state.path[-5:]
    assert state.outcome is None or state.outcome in OUTCOMES  # None: the record says completed
