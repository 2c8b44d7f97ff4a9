"""Spoken menu choices on the real Asterisk: a SIPp caller whose RTP carries espeak-ng speech.

The caller's audio is PCMU (8 kHz μ-law, the telephone path); Asterisk hands it to the controller
through a snoop channel and externalMedia (slin16), where PocketSphinx recognises it.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from ivr.testing.rtp_pcap import Audio, Dtmf, Segment, Silence, write_pcap
from ivr.testing.sipp import SippResult, run_sipp
from ivr.testing.stack import ControllerProcess, TestPbx
from ivr.tts.voices import piper_voice
from tests.integration.calls import newest_call

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"),
]

SHOP_NUMBER = "0120"  # any number no flow binds: the default flow (shop) answers


def espeak(tmp_path: Path, text: str) -> Path:
    """``text`` as a WAV file a caller says (rtp_pcap converts it to 8 kHz μ-law): the Piper voice
    (closer to a person than espeak-ng's robot, which Whisper mishears as often as a person would
    not), or espeak-ng (en-us) where Piper is not installed."""
    out = tmp_path / f"say-{time.monotonic_ns()}.wav"
    voice = piper_voice()
    if voice.missing() is None:
        from ivr.tts.worker import piper

        piper(voice.files[0])(text, 160, out)
        return out
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(out), text], check=True, capture_output=True)
    return out


async def speak_call(
    pbx: TestPbx, tmp_path: Path, segments: list[Segment], *, caller: str, timeout_s: float = 60.0
) -> SippResult:
    pcap = write_pcap(tmp_path / f"caller-{caller}.pcap", [*segments, Silence(25.0)])
    return await run_sipp(
        "caller_waits_bye",
        pbx.sip_target,
        service=SHOP_NUMBER,
        pcap=pcap,
        keys={"caller": caller, "display": "Speech Caller"},
        timeout_s=timeout_s,
        recv_timeout_s=timeout_s - 5,
    )


def speech_inputs(record: dict[str, object]) -> list[tuple[str, str]]:
    inputs = record["inputs"]
    assert isinstance(inputs, list)
    return [(str(i["node"]), str(i["value"])) for i in inputs if i["kind"] == "speech"]


async def test_operator_said_at_the_english_main_menu(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    caller = "0333330001"
    result = await speak_call(
        pbx,
        tmp_path,
        [
            Silence(1.5),
            Dtmf("2"),  # English (typed ahead during the greeting)
            Silence(7.0),  # the main menu's English prompt is playing: the caller talks over it
            Audio(espeak(tmp_path, "operator")),
            Silence(3.0),
            Dtmf("9"),  # typed ahead for the no-agents menu: goodbye, the IVR hangs up
        ],
        caller=caller,
    )
    assert result.ok, result.describe()
    record = newest_call(controller, caller=caller)
    assert ("main_menu", "operator") in speech_inputs(record), record
    assert "operator" in record["path"], record["path"]


async def test_english_said_at_the_language_menu(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    caller = "0333330002"
    result = await speak_call(
        pbx,
        tmp_path,
        [
            Silence(5.0),  # greeting, then the language prompt
            Audio(espeak(tmp_path, "English")),
            Silence(3.0),
            Dtmf("0"),  # main menu (now in English): operator
            Silence(1.0),
            Dtmf("9"),  # no agents: goodbye
        ],
        caller=caller,
    )
    assert result.ok, result.describe()
    record = newest_call(controller, caller=caller)
    # the language menu listens in both languages: the English option's word in either counts
    english = {"english", "英語", "えいご", "イングリッシュ"}
    assert [v.casefold() in english for n, v in speech_inputs(record) if n == "choose_language"] == [True], (
        record
    )
    assert "main_menu" in record["path"], record["path"]


def noise(tmp_path: Path, seconds: float) -> Path:
    """White noise at a talking level (no speech in it): what a street or a fan sounds like."""
    out = tmp_path / f"noise-{time.monotonic_ns()}.wav"
    subprocess.run(
        [
            "sox",
            "-n",
            "-r",
            "16000",
            "-b",
            "16",
            "-c",
            "1",
            str(out),
            "synth",
            str(seconds),
            "whitenoise",
            "vol",
            "0.08",
        ],
        check=True,
        capture_output=True,
    )
    return out


async def test_returns_said_at_the_english_main_menu_reaches_returns(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    caller = "0333330003"
    result = await speak_call(
        pbx,
        tmp_path,
        [
            Silence(1.5),
            Dtmf("2"),  # English
            Silence(7.0),
            Audio(espeak(tmp_path, "returns")),
            Silence(6.0),
            Dtmf("9"),  # the returns queue has no operator here: goodbye
        ],
        caller=caller,
    )
    assert result.ok, result.describe()
    record = newest_call(controller, caller=caller)
    assert ("main_menu", "returns") in [(n, v.casefold()) for n, v in speech_inputs(record)], record
    assert "returns" in record["path"], record["path"]


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
async def test_noise_alone_triggers_nothing(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    caller = "0333330004"
    result = await speak_call(
        pbx,
        tmp_path,
        [
            Silence(1.5),
            Dtmf("2"),  # English
            Silence(3.0),
            Audio(noise(tmp_path, 8.0)),  # over the whole main-menu prompt and after it
            Dtmf("0"),  # then the operator by key
            Silence(1.0),
            Dtmf("9"),
        ],
        caller=caller,
    )
    assert result.ok, result.describe()
    record = newest_call(controller, caller=caller)
    assert speech_inputs(record) == [], record  # no word was made up from the noise
    assert [i["value"] for i in record["inputs"] if i["node"] == "main_menu"] == ["0"], record
    assert "operator" in record["path"], record["path"]
