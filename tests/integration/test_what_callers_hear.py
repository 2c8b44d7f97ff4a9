"""What callers hear, heard: SIPp callers whose audio is recorded (ivr.testing.hearing) and transcribed by
Whisper, on the real Asterisk with the controller's default voices (Open JTalk, Piper).

The call *record* says a read-back node ran; these tests say the digits were audible, in order. Whisper
is noisy, so the assertions are about what must be there (the digits in order, a few greeting words),
never about a whole transcript. The recordings are written next to the test's temporary files.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from ivr.asr.whisper_model import is_model_dir, model_dir
from ivr.testing.hearing import Ears, HeardCall, HeardSpan, listening_call, write_wav
from ivr.testing.received_audio import RATE_16K, heard_digits, upsample_2x
from ivr.testing.rtp_pcap import Dtmf, Segment, Silence, mulaw_decode, mulaw_encode, stream_duration_s
from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import inputs_at, newest_call

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.skipif(not is_model_dir(model_dir()), reason="no Whisper model: run `ivr asr assemble`"),
]

ECHO_NUMBER = "100"
SHOP_NUMBER = "0120"  # no flow binds it: the default flow (shop) answers
READ_BACK = "4271"
JA_SEVEN_READINGS = ["よん、に、なな、いち", "よん、に、しち、いち"]  # the right reading first


@dataclass(frozen=True)
class Listener:
    """A caller's stream in three parts: before the keys (greeting), the keys, and the wait for the
    read-back; ``after`` runs to the end of the call (confirm, goodbye)."""

    number: str
    service: str
    lead: list[Segment]
    keys: list[Segment]
    wait_s: float
    after: list[Segment]

    @property
    def keys_end_s(self) -> float:
        return stream_duration_s([*self.lead, *self.keys])

    @property
    def keys_start_s(self) -> float:
        return stream_duration_s(self.lead)

    def segments(self) -> list[Segment]:
        return [*self.lead, *self.keys, Silence(self.wait_s), *self.after]


# The first English (Piper) and Japanese (Open JTalk) prompts of a fresh controller are synthesised on the
# call (the voice loads: seconds), so the waits for the read-back are long.
LISTENERS = {
    "echo": Listener("0344440001", ECHO_NUMBER, [Silence(5.0)], [Dtmf("4271#")], 30.0, []),
    # English (2), orders (1), status (2), the number; after the read-back: yes (1), then finish (9)
    "shop_en": Listener(
        "0344440002",
        SHOP_NUMBER,
        [Silence(1.5)],
        [Dtmf("2"), Dtmf("12"), Dtmf("4271#")],
        24.0,
        [Dtmf("1"), Silence(12.0), Dtmf("9"), Silence(40.0)],
    ),
    "shop_ja": Listener(
        "0344440003",
        SHOP_NUMBER,
        [Silence(1.5)],
        [Dtmf("1"), Dtmf("12"), Dtmf("4271#")],
        24.0,
        [Dtmf("1"), Silence(12.0), Dtmf("9"), Silence(40.0)],
    ),
}


@pytest.fixture(scope="module")
def ears() -> Ears:
    return Ears.load()


@pytest.fixture(scope="module")
def heard(
    pbx: TestPbx, controller: ControllerProcess, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, HeardCall]:
    """Every listener of this module, called at once; what each heard (also saved as WAV)."""

    async def place_all() -> list[HeardCall]:
        return await asyncio.gather(
            *(
                listening_call(
                    pbx.sip_target,
                    service=who.service,
                    segments=who.segments(),
                    caller=who.number,
                    timeout_s=150.0,
                )
                for who in LISTENERS.values()
            )
        )

    calls = dict(zip(LISTENERS, asyncio.run(place_all()), strict=True))
    folder = tmp_path_factory.mktemp("heard")
    for name, call in calls.items():
        write_wav(folder / f"{name}.wav", call.audio)
    return calls


def _call(heard: dict[str, HeardCall], name: str) -> HeardCall:
    call = heard[name]
    assert call.result.ok, f"{name}: {call.result.describe()}"
    assert call.sent_packets > 0, f"{name}: the far end never sent audio, so the caller never spoke"
    assert call.seconds > 5, f"{name}: only {call.seconds:.1f} s of audio received"
    return call


def _window(
    audio: npt.NDArray[np.int16], start_s: float, end_s: float | None = None
) -> npt.NDArray[np.int16]:
    stop = None if end_s is None else int(end_s * RATE_16K)
    return audio[int(start_s * RATE_16K) : stop]


def _text(spans: Sequence[HeardSpan]) -> str:
    return " ".join(span.text for span in spans if span.text)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.casefold()))


def test_echo_line_greets_in_english_and_reads_the_digits_back(
    heard: dict[str, HeardCall], ears: Ears
) -> None:
    who, call = LISTENERS["echo"], _call(heard, "echo")
    greeting = _text(ears.spans(_window(call.audio, 0, who.keys_start_s), "en"))
    # "Hello. Please enter some digits, then press the pound key."
    assert len(_words(greeting) & {"hello", "enter", "digits", "pound", "key"}) >= 3, greeting

    after_keys = _text(ears.spans(_window(call.audio, who.keys_end_s), "en"))
    assert READ_BACK in heard_digits(after_keys, "en"), f"read-back not heard in order: {after_keys!r}"
    assert READ_BACK not in heard_digits(greeting, "en")  # the digits come after the keys, not before


def test_order_status_read_back_in_english(
    heard: dict[str, HeardCall], ears: Ears, controller: ControllerProcess
) -> None:
    who, call = LISTENERS["shop_en"], _call(heard, "shop_en")
    record = newest_call(controller, caller=who.number)
    assert inputs_at(record, "order_number") == [READ_BACK], record  # the path the read-back belongs to
    read_back = _text(ears.spans(_window(call.audio, who.keys_end_s, who.keys_end_s + who.wait_s), "en"))
    # "You entered four two seven one. Is that correct? …"
    assert READ_BACK in heard_digits(read_back, "en"), f"read-back not heard in order: {read_back!r}"
    assert "correct" in _words(read_back), read_back


def test_japanese_read_back_says_nana_for_seven(
    heard: dict[str, HeardCall], ears: Ears, controller: ControllerProcess
) -> None:
    who, call = LISTENERS["shop_ja"], _call(heard, "shop_ja")
    record = newest_call(controller, caller=who.number)
    assert inputs_at(record, "order_number") == [READ_BACK], record
    read_back = _window(call.audio, who.keys_end_s, who.keys_end_s + who.wait_s)
    text = _text(ears.spans(read_back, "ja"))
    # 「ご注文番号は 4 2 7 1 でよろしいですか」: in a sentence Whisper writes digits
    assert READ_BACK in heard_digits(text, "ja"), f"read-back not heard in order: {text!r}"
    reading = ears.closest_reading(read_back, "ja", JA_SEVEN_READINGS, words=len(READ_BACK))
    assert reading is not None, f"no stretch of the read-back sounds like {JA_SEVEN_READINGS}: {text!r}"
    assert reading[0] == JA_SEVEN_READINGS[0], f"7 was read as しち: Whisper heard {reading[1]!r}"


def test_japanese_greeting(heard: dict[str, HeardCall], ears: Ears) -> None:
    who, call = LISTENERS["shop_ja"], _call(heard, "shop_ja")
    greeting = _text(ears.spans(_window(call.audio, 0, who.keys_end_s), "ja"))
    # 「お電話ありがとうございます。デモショップです。」
    # tolerant of ASR noise (お電話 was once heard as お店は) but able to fail: the thanks and the shop's name
    assert "ありがとうございます" in greeting, greeting
    assert any(word in greeting for word in ("電話", "でんわ", "デモショップ", "デモ")), greeting


def _telephone(samples: npt.NDArray[np.float64], rate: int) -> npt.NDArray[np.int16]:
    """Synthesised speech the way a caller gets it: 8 kHz μ-law, decoded and upsampled like a recording."""
    sox = shutil.which("sox")
    assert sox is not None
    import subprocess

    pcm = (samples / max(1.0, float(np.abs(samples).max())) * 23000).astype("<i2").tobytes()
    out = subprocess.run(
        [sox, "-t", "raw", "-r", str(rate), "-e", "signed", "-b", "16", "-c", "1", "-",
         "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1", "-"],
        input=pcm, capture_output=True, check=True,
    ).stdout  # fmt: skip
    return upsample_2x(mulaw_decode(mulaw_encode(np.frombuffer(out, dtype="<i2"))))


def test_the_nana_check_hears_shichi_when_it_is_said(ears: Ears) -> None:
    """The same check on a read-back that says しち (Open JTalk, telephone path) must answer しち, or the
    test above could not fail."""
    pyopenjtalk = pytest.importorskip("pyopenjtalk")
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed")
    pause = np.zeros(RATE_16K // 5, dtype=np.int16)
    parts = []
    for text in [
        "ごちゅうもん ばんごうわ",
        "よん、に、しち、いち",
        "で よろしいですか。 はいわ いちばんを おしてください。",
    ]:
        wav, rate = pyopenjtalk.tts(text)
        parts += [_telephone(np.asarray(wav, dtype=np.float64), int(rate)), pause]
    reading = ears.closest_reading(np.concatenate(parts), "ja", JA_SEVEN_READINGS, words=len(READ_BACK))
    assert reading is not None and reading[0] == JA_SEVEN_READINGS[1], reading
