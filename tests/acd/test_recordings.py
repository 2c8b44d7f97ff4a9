"""Recording conversations: the distributor's decision, the recorder's ARI side, PCI pauses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from acd.config import queues_from_text
from acd.events import Connect, OfferAnswered, RecordConversation
from acd.recordings import ConversationRecorder, NoRecording, PauseRefused, pause_action, recording_name
from ivr.ari.errors import AriHTTPError
from ivr.ari.events import parse_event
from tests.acd.builders import agent, at, config, queue
from tests.acd.dist_helpers import Driver, of
from tests.calls.fake_ari import FakeAri, _Group

NOW = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)  # already 12-02 in Tokyo


def _driver(record: bool) -> Driver:
    d = Driver(config([agent("2102", {"orders": 3})], [queue("orders", record=record)]))
    d.login("2102")
    return d


@pytest.mark.parametrize("record", [True, False])
def test_a_recording_queue_asks_to_record_right_after_connect(record: bool) -> None:
    d = _driver(record)
    d.queue("c1", "orders", 1)
    out = d.send(OfferAnswered("c1-o1", at(3)), 3)
    recorded = of(out, RecordConversation)
    assert recorded == ([RecordConversation("c1", "orders", "2102")] if record else [])
    if record:
        assert out.index(recorded[0]) == out.index(of(out, Connect)[0]) + 1


def test_queues_file_takes_record_as_a_boolean_only() -> None:
    ok, errors = queues_from_text("queues:\n  orders: {record: true}\n  returns: {}\n", "q.yaml")
    assert errors == []
    assert ok.queues["orders"].record is True and ok.queues["returns"].record is False
    _, errors = queues_from_text('queues:\n  orders: {record: "yes"}\n', "q.yaml")
    assert len(errors) == 1
    assert "orders.record" in str(errors[0]) and "true or false" in str(errors[0])


def test_recording_name_is_the_utc_day_and_the_calls_nth_conversation() -> None:
    tokyo_next_morning = NOW.astimezone(timezone(timedelta(hours=9)))
    assert recording_name("c1", 2, tokyo_next_morning) == "2026-12-01/c1-2"


@pytest.mark.parametrize(
    ("paused_for", "sensitive", "action"),
    [
        (None, True, "pause"),
        ("sensitive", True, None),
        ("operator", True, None),
        ("sensitive", False, "resume"),
        ("operator", False, None),  # a person's pause stays until that person resumes
        (None, False, None),
    ],
)
def test_pause_action_for_a_node(paused_for: str | None, sensitive: bool, action: str | None) -> None:
    assert pause_action(paused_for, sensitive) == action


class _Ari(FakeAri):
    def __init__(self) -> None:
        super().__init__()
        self.recordings = _Group(self, "recordings")


def _recorder(tmp_path: Path, ari: _Ari, writes: list[Any]) -> ConversationRecorder:
    clock = iter(NOW + timedelta(seconds=i) for i in range(100))
    return ConversationRecorder(
        ari=ari,
        bridge_of=lambda call_id: f"leg-{call_id}-bridge" if call_id != "nobridge" else None,
        spool=tmp_path / "spool",
        recordings_dir=tmp_path / "recordings",
        submit=writes.append,
        clock=lambda: next(clock),
    )


class _Store:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __getattr__(self, name: str) -> Any:
        async def record(*args: Any) -> None:
            self.calls.append((name, *args))

        return record


async def _apply(writes: list[Any]) -> list[tuple[Any, ...]]:
    store = _Store()
    for write in writes:
        await write(store)
    writes.clear()
    return store.calls


async def test_recorder_records_the_bridge_and_files_the_wav_by_day(tmp_path: Path) -> None:
    ari, writes = _Ari(), list[Any]()
    rec = _recorder(tmp_path, ari, writes)
    await rec.on_command(RecordConversation("c1", "orders", "2102"))
    [(args, kwargs)] = ari.calls_to("bridges.record")
    assert args == ("leg-c1-bridge",) and kwargs["name"] == "2026-12-01/c1-1" and kwargs["format"] == "wav"
    assert await _apply(writes) == [
        ("recording_started", "c1", "2026-12-01/c1-1", "2026-12-01/c1-1.wav", NOW)
    ]
    spooled = tmp_path / "spool" / "2026-12-01" / "c1-1.wav"
    spooled.parent.mkdir(parents=True)
    spooled.write_bytes(b"RIFF....WAVE")
    rec.on_event(
        parse_event(
            {
                "type": "RecordingFinished",
                "application": "ivr",
                "timestamp": "2026-12-02T00:01:00.000+0000",
                "recording": {
                    "name": "2026-12-01/c1-1",
                    "state": "done",
                    "target_uri": "bridge:leg-c1-bridge",
                },
            }
        )
    )
    await rec.close()
    filed = tmp_path / "recordings" / "2026-12-01" / "c1-1.wav"
    assert filed.read_bytes() == b"RIFF....WAVE" and not spooled.exists()
    [(what, name, ended)] = await _apply(writes)
    assert (what, name) == ("recording_ended", "2026-12-01/c1-1")
    assert ended == datetime(2026, 12, 2, 0, 1, tzinfo=UTC)
    assert rec.live == {}
    with pytest.raises(NoRecording):
        await rec.set_paused("c1", True, reason="operator", by="alice")


async def test_a_taken_name_moves_on_to_the_next_number(tmp_path: Path) -> None:
    ari, writes = _Ari(), list[Any]()
    ari.fail("bridges.record", AriHTTPError(409, "POST", "/bridges/x/record", "exists"), once=True)
    rec = _recorder(tmp_path, ari, writes)
    assert await rec.start("c1") == "2026-12-01/c1-2"
    assert await rec.start("nobridge") is None


async def test_operator_pause_mutes_and_a_sensitive_node_cannot_be_resumed_over(tmp_path: Path) -> None:
    ari, writes = _Ari(), list[Any]()
    rec = _recorder(tmp_path, ari, writes)
    name = await rec.start("c1")
    await _apply(writes)
    assert await rec.set_paused("c1", True, reason="operator", by="alice") is True
    assert await rec.set_paused("c1", True, reason="operator", by="alice") is True  # idempotent
    assert await rec.set_paused("c1", False, reason="operator", by="alice") is False
    assert ari.ops("recordings.") == ["recordings.mute", "recordings.unmute"]
    assert [c[:4] for c in await _apply(writes)] == [
        ("recording_paused", name, "operator", "alice"),
        ("recording_resumed", name, NOW + timedelta(seconds=2)),
    ]
    await rec.node_started("c1", sensitive=True)
    with pytest.raises(PauseRefused):
        await rec.set_paused("c1", False, reason="operator", by="alice")
    await rec.node_started("c1", sensitive=False)
    assert ari.ops("recordings.") == ["recordings.mute", "recordings.unmute"] * 2
    assert [c[:3] for c in await _apply(writes)] == [
        ("recording_paused", name, "sensitive"),
        ("recording_resumed", name, NOW + timedelta(seconds=4)),
    ]
    await rec.node_started("other-call", sensitive=True)  # no recording there: nothing to do
    assert len(ari.ops("recordings.")) == 4
