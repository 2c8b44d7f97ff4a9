"""Hostile ARI event JSON (real events mutated: fields removed, wrong types, huge or non-BMP strings,
deep nesting; random text on the socket): a typed event, an ``UnknownEvent`` saying why, or a skipped
message; never an exception out of parsing or the stream's decoding."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from ivr.ari.events import KNOWN_EVENT_TYPES, AriEvent, UnknownEvent, channel_id_of, parse_event
from ivr.ari.stream import EventStream
from ivr.calls.translate import to_flow_event
from tests.ari.samples import EVENTS

hostile_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**4000),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(
        ["", "\U0001f4de" * 1000, "x" * 100_000, "\ud800", "channel:", "2026-13-45T99:99:99+9999"]
    ),
)
json_values = st.recursive(
    hostile_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


def _paths(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, (*path, k))
    return out


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    event = copy.deepcopy(EVENTS[draw(st.sampled_from(sorted(EVENTS)))])
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(event)[1:]))
        parent = event
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            parent[path[-1]] = draw(json_values)
        else:
            del parent[path[-1]]
        if not event:
            break
    return event


def assert_safe(event: AriEvent, data: Any) -> None:
    assert isinstance(event, AriEvent)
    kind = data.get("type")
    if isinstance(event, UnknownEvent) and isinstance(kind, str) and kind in KNOWN_EVENT_TYPES:
        assert event.error  # a known type that did not parse says why
    ident = channel_id_of(event)
    assert ident is None or (isinstance(ident, str) and ident)
    to_flow_event(event, call_id="1732410123.42", stopped={"x"})


@given(mutated_events())
@example({"type": "StasisStart", "channel": {"id": "c", "name": 10**4000}})
@example({"type": "StasisStart", "channel": {"id": "c"}, "application": 10**4000})  # str() of it raises
@example({"type": "ChannelDtmfReceived", "channel": {"id": "c"}, "digit": "\ud800"})
@example({"type": "PlaybackFinished", "playback": {"id": "p", "target_uri": ["channel:x"]}})
def test_any_mutated_event_parses_to_a_safe_event(data: dict[str, Any]) -> None:
    assert_safe(parse_event(data), data)


@given(
    st.dictionaries(st.text(max_size=10), json_values, max_size=6), st.sampled_from(sorted(KNOWN_EVENT_TYPES))
)
def test_a_random_object_of_any_known_type_is_safe(body: dict[str, Any], kind: str) -> None:
    data = {**body, "type": kind}
    assert_safe(parse_event(data), data)


@given(json_values)
def test_a_message_that_is_not_an_object_is_an_unknown_event(value: Any) -> None:
    event = parse_event(value)
    assert isinstance(event, AriEvent)
    if not isinstance(value, dict):
        assert isinstance(event, UnknownEvent) and event.error


@given(st.one_of(st.text(max_size=200), mutated_events().map(json.dumps)))
@example("[" * 100_000 + "]" * 100_000)  # RecursionError escaped the stream before
@example('{"a":' * 100_000 + "1" + "}" * 100_000)
@example('{"type": "StasisStart", "channel": {"id": "c"}, "x": ' + "1" * 5000 + "}")  # int beyond digit limit
def test_any_socket_message_is_an_event_or_skipped(text: str) -> None:
    event = EventStream._decode(text)
    assert event is None or isinstance(event, AriEvent)
