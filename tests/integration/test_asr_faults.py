"""A recogniser that crashes or hangs on the real Asterisk: the caller at a speech-enabled ``collect``
still completes by keys, and the pool replaces the hung worker.

Own Asterisk and controller (a second controller on the session ``pbx`` would take its Stasis app). The
controller runs the test-only misbehaving engine (``IVR_TESTING=1`` + ``IVR_ASR_TEST_FAULT=raise,hang``:
the first recognition raises, the second hangs for good) with ``IVR_ASR_TIMEOUT_S=2``: no model is
loaded. Each caller says a word at the collect, waits, then keys the number.
"""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.testing.rtp_pcap import Audio, Dtmf, Silence, write_pcap
from ivr.testing.sipp import run_sipp
from ivr.testing.stack import ControllerProcess, TestPbx, start_test_pbx
from tests.integration.calls import dtmf_values, newest_call

pytestmark = [
    pytest.mark.asterisk,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"),
]

NUMBER = "7801"
FLOW = f"""
name: asr_fault
description: A spoken or keyed 4-digit number (fault tests of the recogniser).
languages: [en]
default_language: en
numbers: ["{NUMBER}"]
entry: number
nodes:
  number:
    type: collect
    prompt: {{file: beep}}
    var: number
    speech: true
    min_length: 4
    max_length: 4
    terminator: "#"
    timeout: 15
    inter_digit_timeout: 5
    retries: 2
    next: bye
    on_failure: bye
  bye:
    type: hangup
    prompt: {{file: beep}}
    outcome: completed
"""


@pytest.fixture(scope="module")
def faulty_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestPbx, ControllerProcess]]:
    running = start_test_pbx(tmp_path_factory.mktemp("pbx-asr-faults"))
    flows = tmp_path_factory.mktemp("asr-fault-flows")
    (flows / "asr_fault.yaml").write_text(FLOW)
    proc = ControllerProcess(
        env={
            **running.env,
            "IVR_TESTING": "1",
            "IVR_ASR_TEST_FAULT": "raise,hang",
            "IVR_ASR_TIMEOUT_S": "2",
            "IVR_ASR_WORKERS": "1",  # one worker: only its replacement can serve the second caller
            "IVR_FLOWS_DIR": str(flows),
            "IVR_TTS": "espeak",
            "IVR_LOG_LEVEL": "DEBUG",
        },
        log_path=running.data_dir / "controller.log",
    )
    try:
        proc.start(wait_s=120.0)
        yield running, proc
    finally:
        handle = proc.proc
        proc.stop(timeout=20.0)
        running.stop()
        # A thread stuck in a recognition for good must not keep the controller from stopping.
        assert handle is None or handle.returncode == 0, f"controller exit {handle.returncode}"
        log = proc.log_text()
        assert "Traceback" not in log, f"controller logged a traceback:\n{proc.log_tail(200)}"


def said(tmp_path: Path, text: str) -> Path:
    out = tmp_path / f"say-{time.monotonic_ns()}.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(out), text], check=True, capture_output=True)
    return out


def metrics(proc: ControllerProcess) -> dict[str, float]:
    req = urllib.request.Request(
        proc.base_url + "/metrics", headers={"Authorization": f"Bearer {proc.token}"}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        text = resp.read().decode()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            values[name] = float(value)
    return values


async def test_a_caller_at_a_speech_collect_completes_by_keys_when_the_recogniser_fails_or_hangs(
    faulty_stack: tuple[TestPbx, ControllerProcess], tmp_path: Path
) -> None:
    pbx, proc = faulty_stack
    callers = {"0333440001": "raise", "0333440002": "hang"}
    for caller, keys in zip(callers, ("4271#", "5382#"), strict=True):
        pcap = write_pcap(
            tmp_path / f"caller-{caller}.pcap",
            [
                Silence(2.5),  # answer, beep, the collect starts listening
                Audio(said(tmp_path, "seven")),  # recognised by the faulty engine: raises / hangs
                Silence(7.0),  # the fault turns into "keys only" (the hang after IVR_ASR_TIMEOUT_S=2)
                Dtmf(keys),
                Silence(20.0),
            ],
        )
        result = await run_sipp(
            "caller_waits_bye",
            pbx.sip_target,
            service=NUMBER,
            pcap=pcap,
            keys={"caller": caller, "display": "Speech Caller"},
            timeout_s=60,
            recv_timeout_s=55,
        )
        assert result.ok, f"{callers[caller]}: {result.describe()}\n{proc.log_tail(80)}"
        record = newest_call(proc, caller=caller, wait_s=20)
        assert record["outcome"] == "completed", record
        assert record["path"] == ["number", "bye"], record
        assert dtmf_values(record) == [keys.rstrip("#")], record  # by keys, after the fallback

    figures = metrics(proc)
    assert figures['ivr_asr_failures_total{reason="error"}'] >= 1, figures
    assert figures['ivr_asr_failures_total{reason="timeout"}'] >= 1, figures
    assert figures["ivr_asr_workers_replaced_total"] >= 1, figures
    assert figures["ivr_asr_workers_hung"] >= 1, figures  # the test engine never returns
    assert figures["ivr_asr_keys_only_fallbacks_total"] >= 2, figures
    log = proc.log_text()
    fallbacks = [line for line in log.splitlines() if "falls back to keys" in line]
    assert any("RuntimeError: test fault" in line for line in fallbacks), fallbacks
    assert any("written off, asr-2 started" in line for line in fallbacks), fallbacks
