"""SpeechService/SpeechListener plumbing without Asterisk: RTP datagrams from a leg's port → endpointing
→ a (fake) recogniser in the pool → SpeechRecognized posted to the call. The ARI side is proven on the
real Asterisk in tests/integration/test_speech.py; here a recording stub stands in for the REST calls."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ivr.ari.errors import AriNotFound, AriUnprocessable
from ivr.ari.models import Channel
from ivr.asr.config import AsrConfig
from ivr.asr.engines import Recognition
from ivr.calls.speech import SpeechService
from ivr.flows.events import Event, SpeechRecognized

LEG_PORT = 31000


class FakeRecognizer:
    def __init__(self) -> None:
        self.calls: list[tuple[int, tuple[str, ...]]] = []

    def warm_up(self) -> None:
        pass

    def recognize(
        self, samples16k: npt.NDArray[np.int16], words: Sequence[str], lang: str
    ) -> Recognition | None:
        self.calls.append((len(samples16k), tuple(words)))
        return (words[0], 0.9) if len(samples16k) > 3200 else None


class StubResource:
    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self._log = log

    async def snoop(self, id: str, **kw: Any) -> Channel:
        self._log.append(("snoop", kw))
        return Channel.from_json({"id": kw["snoop_id"], "name": "Snoop/x", "state": "Up"})

    async def external_media(self, **kw: Any) -> Channel:
        self._log.append(("external_media", kw))
        return Channel.from_json(
            {
                "id": kw["channel_id"],
                "name": "UnicastRTP/x",
                "state": "Up",
                "channelvars": {
                    "UNICASTRTP_LOCAL_ADDRESS": "127.0.0.1",
                    "UNICASTRTP_LOCAL_PORT": str(LEG_PORT),
                },
            }
        )

    async def hangup(self, id: str, reason: str = "normal") -> None:
        self._log.append(("hangup", id))
        raise AriNotFound(404, "DELETE", f"/channels/{id}", "gone")  # already gone: ignored

    async def create(self, **kw: Any) -> Any:
        self._log.append(("bridge", kw))
        return type("B", (), {"id": kw["bridge_id"]})()

    async def add_channel(self, id: str, channels: list[str]) -> None:
        self._log.append(("add_channel", channels))

    async def destroy(self, id: str) -> None:
        self._log.append(("destroy", id))


class StubAri:
    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []
        self.channels = StubResource(self.log)
        self.bridges = StubResource(self.log)


def rtp(seq: int, samples: npt.NDArray[np.int16]) -> bytes:
    return struct.pack("!BBHII", 0x80, 118, seq, seq * 320, 42) + samples.astype(">i2").tobytes()


def talk(service: SpeechService, seconds_silence: float, seconds_voice: float, start_seq: int = 0) -> int:
    seq = start_seq
    t = np.arange(320) / 16000
    voice = (8000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    for frames, chunk in (
        (int(seconds_silence * 50), np.zeros(320, np.int16)),
        (int(seconds_voice * 50), voice),
    ):
        for _ in range(frames):
            service.datagram(rtp(seq, chunk), ("127.0.0.1", LEG_PORT))
            seq += 1
    for _ in range(50):  # one second of silence ends the utterance
        service.datagram(rtp(seq, np.zeros(320, np.int16)), ("127.0.0.1", LEG_PORT))
        seq += 1
    return seq


class Posted(list[Event]):
    """Collects posted events; ``arrived`` is set by the first one."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.append(event)
        self.arrived.set()


async def test_utterance_is_recognised_and_posted_and_legs_torn_down() -> None:
    ari = StubAri()
    fake = FakeRecognizer()
    # vad="energy": this plumbing is fed a sine, which is not speech to Silero (see test_vad_endpoint.py)
    service = SpeechService(
        ari=ari,  # type: ignore[arg-type]
        app="ivr",
        config=AsrConfig(workers=1),
        engines={"en": fake},
        vad="energy",
    )
    await service.start()
    posted = Posted()
    listener = service.listener("call1", "chan1", posted)
    try:
        await listener.listen("ja", ("英語",))  # no engine for ja: a no-op, no legs
        assert not listener.legs_up and ari.log == []
        await listener.listen("en", ("operator", "agent"))
        assert listener.legs_up
        snoop = dict(ari.log)["snoop"]
        assert (
            snoop["spy"] == "in"
            and snoop["app_args"] == "leg:snoop:call1"
            and snoop["snoop_id"].startswith("leg-call1-snoop-")
        )
        assert dict(ari.log)["external_media"]["external_host"] == f"127.0.0.1:{service.port}"
        talk(service, 0.5, 0.6)
        await asyncio.wait_for(posted.arrived.wait(), 5.0)
        assert posted == [SpeechRecognized(text="operator", confidence=0.9, lang="en")]
        # next menu: the same legs, new words
        legs = len(ari.log)
        await listener.listen("en", ("order",))
        assert len(ari.log) == legs
        await listener.listen("en", ())  # stop: audio is ignored
        talk(service, 0.2, 0.6, start_seq=1000)
        await asyncio.sleep(0.2)
        assert len(posted) == 1
        # unknown source ports are counted, not routed
        service.datagram(rtp(1, np.zeros(320, np.int16)), ("127.0.0.1", LEG_PORT + 1))
        assert service.unknown_datagrams == 1
    finally:
        listener.close()
        await service.close()
    kinds = [k for k, _ in ari.log]
    assert kinds.count("hangup") == 2 and "destroy" in kinds


async def test_result_for_replaced_words_is_dropped() -> None:
    ari = StubAri()

    class Slow(FakeRecognizer):
        def recognize(
            self, samples16k: npt.NDArray[np.int16], words: Sequence[str], lang: str
        ) -> Recognition | None:
            import time

            time.sleep(0.3)
            return super().recognize(samples16k, words, lang)

    service = SpeechService(
        ari=ari,  # type: ignore[arg-type]
        app="ivr",
        config=AsrConfig(workers=1),
        engines={"en": Slow()},
        vad="energy",
    )
    await service.start()
    posted = Posted()
    listener = service.listener("call2", "chan2", posted)
    try:
        await listener.listen("en", ("operator",))
        talk(service, 0.3, 0.6)
        await asyncio.sleep(0.05)
        await listener.listen("en", ("order",))  # the menu moved on while recognising
        await asyncio.sleep(0.6)
        assert posted == []
    finally:
        listener.close()
        await service.close()


async def test_speech_legs_are_owned_and_losing_one_turns_speech_off() -> None:
    from ivr.calls.legs import LegRegistry
    from tests.calls.fake_ari import chan_json, event

    ari = StubAri()
    legs = LegRegistry()
    service = SpeechService(
        ari=ari,  # type: ignore[arg-type]
        app="ivr",
        config=AsrConfig(workers=1),
        engines={"en": FakeRecognizer()},
        legs=legs,
    )
    await service.start()
    delivered: list[object] = []
    listener = service.listener("call1", "chan1", Posted(), delivered.append)
    try:
        await listener.listen("en", ("operator",))
        snoop_id = dict(ari.log)["snoop"]["snoop_id"]
        owner = legs.owner(snoop_id)
        assert owner is not None and listener.owns(snoop_id)
        gone = event("ChannelDestroyed", channel=chan_json(snoop_id), cause=16, cause_txt="x")
        owner(gone)
        assert delivered == [gone]  # the session receives it …
        listener.on_leg_event(gone)  # … and hands it to the listener
        await listener.listen("en", ("operator",))
        assert not listener.legs_up  # speech is off for this call: DTMF only
        for _ in range(20):
            await asyncio.sleep(0)
        assert legs.owner(snoop_id) is None
    finally:
        await listener.aclose()
        await service.close()


class LateStasisAri(StubAri):
    """Asterisk's answer to /snoop and /externalMedia comes before the legs entered the app: the bridge
    refuses them (422 "Channel not in Stasis application") ``refusals`` times."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals
        add = self.bridges.add_channel

        async def add_channel(id: str, channels: list[str]) -> None:
            if self.refusals > 0:
                self.refusals -= 1
                self.log.append(("refused", channels))
                raise AriUnprocessable(
                    422, "POST", f"/bridges/{id}/addChannel", "Channel not in Stasis application"
                )
            await add(id, channels)

        self.bridges.add_channel = add_channel  # type: ignore[method-assign]


async def _listener_on(ari: StubAri) -> tuple[SpeechService, Any]:
    service = SpeechService(
        ari=ari,  # type: ignore[arg-type]
        app="ivr",
        config=AsrConfig(workers=1),
        engines={"en": FakeRecognizer()},
        vad="energy",
    )
    await service.start()
    return service, service.listener("call3", "chan3", Posted())


async def test_legs_not_yet_in_the_app_are_bridged_once_they_are() -> None:
    ari = LateStasisAri(refusals=3)
    service, listener = await _listener_on(ari)
    try:
        await listener.listen("en", ("operator",))
        assert listener.legs_up
        kinds = [k for k, _ in ari.log]
        assert kinds.count("refused") == 3 and kinds.count("add_channel") == 1
        assert "hangup" not in kinds
    finally:
        await listener.aclose()
        await service.close()


async def test_legs_that_never_enter_the_app_leave_the_call_on_keys(monkeypatch: Any) -> None:
    monkeypatch.setattr("ivr.calls.speech.STASIS_ENTRY_WAIT_S", 0.2)
    ari = LateStasisAri(refusals=1000)
    service, listener = await _listener_on(ari)
    try:
        await listener.listen("en", ("operator",))
        assert not listener.legs_up
        kinds = [k for k, _ in ari.log]
        assert 2 <= kinds.count("refused") < 20 and kinds.count("hangup") == 2 and "destroy" in kinds
    finally:
        await listener.aclose()
        await service.close()
