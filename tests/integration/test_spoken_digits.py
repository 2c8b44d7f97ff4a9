"""A spoken order number on the real Asterisk: a SIPp caller SAYS 4 2 7 1 (Asterisk's human-recorded
digits, Allison, through PCMU) at the shop's order-number prompt; the controller runs Whisper
(``IVR_ASR_ENGINE=whisper``: the default engine, PocketSphinx, answers no match for digit strings).

This module starts its own Asterisk and controller: on the session ``pbx`` both controllers would
register the same Stasis app ("ivr"), and Asterisk gives an app's events to its newest registration only
(and deactivates the app when that one disconnects), which would break the session controller.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ivr.asr.whisper_model import default_model_dir, is_model_dir
from ivr.settings import Settings
from ivr.testing.rtp_pcap import Audio, Dtmf, Segment, Silence, write_pcap
from ivr.testing.sipp import run_sipp
from ivr.testing.stack import ControllerProcess, TestPbx, start_test_pbx
from tests.integration.calls import newest_call

SHOP_NUMBER = "0120"  # any number no flow binds: the default flow (shop) answers
SOUNDS = "usr/share/asterisk/sounds/en_US_f_Allison/digits"

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.skipif(shutil.which("sox") is None, reason="sox is needed to read Asterisk's GSM digits"),
    pytest.mark.skipif(
        not is_model_dir(default_model_dir()), reason="no Whisper model: run `ivr asr assemble`"
    ),
]


@pytest.fixture(scope="module")
def whisper_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestPbx, ControllerProcess]]:
    running = start_test_pbx(tmp_path_factory.mktemp("pbx-whisper"))
    proc = ControllerProcess(
        env={
            **running.env,
            "IVR_ASR_ENGINE": "whisper",
            "IVR_LOG_LEVEL": "DEBUG",
            "IVR_HOURS_OVERRIDE": "open",  # the shop flow must not depend on the clock
        },
        log_path=running.data_dir / "controller.log",
    )
    try:
        proc.start(wait_s=180.0)  # loads Whisper (≈1–2 s) and warms its worker threads
        wait_for_prompts(proc)
        yield running, proc
    finally:
        proc.stop()
        running.stop()
        log = proc.log_text()
        assert "Traceback" not in log, f"controller logged a traceback:\n{proc.log_tail(200)}"


def wait_for_prompts(proc: ControllerProcess, wait_s: float = 600.0) -> None:
    """Until the controller has synthesised the flows' prompts (a new data directory has no cache): the
    caller's audio is timed for prompts that play at once."""
    deadline = time.monotonic() + wait_s
    while "prompts ready:" not in proc.log_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"prompts not ready after {wait_s:g} s:\n{proc.log_tail()}")
        time.sleep(1.0)


def human_digits(number: str) -> Audio:
    """``number`` said by Asterisk's recorded voice (Allison, GSM 8 kHz), one recording after another."""
    folder = Settings.from_env().pbx_root / SOUNDS
    if not folder.is_dir():
        pytest.skip(f"Asterisk's sounds are not unpacked ({folder}): make pbx-root")
    spec = ["-e", "signed-integer", "-b", "16", "-c", "1", "-L"]
    parts = []
    for digit in number:
        raw = subprocess.run(
            ["sox", str(folder / f"{digit}.gsm"), "-t", "raw", "-r", "8000", *spec, "-"],
            capture_output=True,
            check=True,
        ).stdout
        parts.append(np.frombuffer(raw, dtype="<i2").astype(np.int16))
    return Audio(np.concatenate(parts))


async def test_spoken_order_number_is_read_back_confirmed_and_looked_up(
    whisper_stack: tuple[TestPbx, ControllerProcess], tmp_path: Path
) -> None:
    pbx, controller = whisper_stack
    caller = "0344440001"
    segments: list[Segment] = [
        Silence(1.5),
        Dtmf("2"),  # English (typed ahead during the greeting)
        Silence(2.0),
        Dtmf("12"),  # main menu: orders; orders menu: status of an order → order_number
        Silence(9.0),  # the order-number prompt (≈4 s), rendered on first use; the node listens
        human_digits("4271"),  # said, not keyed
        Silence(12.0),  # endpointing (0.5 s) + Whisper (≈1.5 s, more on a busy box) + the read-back
        Dtmf("1"),  # yes at the confirmation (keys; its words are tested in test_speech.py's way)
        Silence(8.0),  # lookup, "Your order is shipped."
        Dtmf("9"),  # finish: goodbye, the IVR hangs up
        Silence(20.0),
    ]
    pcap = write_pcap(tmp_path / f"caller-{caller}.pcap", segments)
    result = await run_sipp(
        "caller_waits_bye",
        pbx.sip_target,
        service=SHOP_NUMBER,
        pcap=pcap,
        keys={"caller": caller, "display": "Spoken Digits"},
        timeout_s=120.0,
        recv_timeout_s=115.0,
    )
    assert result.ok, f"{result.describe()}\n{controller.log_tail(80)}"
    record = newest_call(controller, caller=caller, wait_s=20.0)
    taken = [(i["node"], i["kind"], i["value"]) for i in record["inputs"]]
    assert ("order_number", "speech", "4271") in taken, (taken, controller.log_tail(80))
    assert ("confirm_order", "dtmf", "1") in taken, taken
    path = record["path"]
    at = path.index("order_number")
    assert path[at : at + 4] == ["order_number", "confirm_order", "order_lookup", "order_status"], path
