"""A card number keyed into a sensitive ``collect`` appears nowhere but as its last four digits: not in
the controller's log, Asterisk's logs (messages, console, security, CDR, queue_log), the database file
(WAL included), any file the controller or Asterisk wrote (recordings included), nor any API answer or
CSV export. The call then talks to an operator in the recorded ``orders`` queue, so a recording exists
and is checked too."""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call_keys, newest_call, wait_for_flows
from tests.integration.phones import available, log_out, register, until

pytestmark = pytest.mark.asterisk

NUMBER = "7730"
CALLER = "0312227730"
OPERATOR = "3109"  # answers the recorded `orders` queue (tests/integration/acd/agents.yaml)
CARD = "4111111111111111"  # Luhn-valid test card
# Whatever the formatting, nothing longer than the last four digits may be found.
FORBIDDEN = [CARD, "4111 1111 1111 1111", "4111-1111-1111-1111", CARD[:-4], "4 1 1 1 1 1 1 1 1 1 1 1"]
FLOW = f"""\
name: card_check_line
languages: [en]
numbers: ["{NUMBER}"]
entry: card
nodes:
  card:
    type: collect
    prompt: "Please key in your card number, then the pound key."
    var: card
    min_length: 13
    max_length: 19
    terminator: "#"
    timeout: 8
    inter_digit_timeout: 5
    validate: {{pattern: "[0-9]+", luhn: true}}
    sensitive: true
    keep_last4: true
    retries: 1
    next: readback
    on_failure: bye
  readback: {{type: say, prompt: "Card ending in", digits: "{{card.last4}}", next: q}}
  q: {{type: queue, queue: orders, on_no_agents: bye, after: bye}}
  bye: {{type: hangup, outcome: completed}}
"""


@pytest.fixture
def card_line(controller: ControllerProcess, site_flows: Path) -> Iterator[None]:
    path = site_flows / "card_check_line.yaml"
    path.write_text(FLOW)
    wait_for_flows(
        controller,
        lambda body: any(f.get("name") == "card_check_line" for f in body["flows"]),
        wait_s=15,
        what="flow card_check_line",
    )
    yield
    path.unlink()


def _files(*roots: Path) -> Iterator[Path]:
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                yield path


def _leaks(data: bytes) -> list[str]:
    return [f for f in FORBIDDEN if f.encode() in data]


def _api(controller: ControllerProcess, path: str) -> bytes:
    req = urllib.request.Request(controller.base_url + path)
    req.add_header("Authorization", f"Bearer {controller.token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200, path
        return bytes(resp.read())


async def test_a_keyed_card_number_leaks_nowhere(
    pbx: TestPbx, controller: ControllerProcess, card_line: None, tmp_path: Path
) -> None:
    operator = await register(pbx, OPERATOR, answer_ms=500, talk_ms=3000)
    try:
        await available(controller, OPERATOR)
        result = await call_keys(
            pbx, tmp_path, service=NUMBER, groups=[CARD + "#"], caller=CALLER, lead_silence_s=3.0,
            trailing_silence_s=40.0, timeout_s=60.0,
        )  # fmt: skip
        assert result.ok, result.describe()
        await operator.hang_up()
    finally:
        await log_out(controller, pbx, OPERATOR)

    record = newest_call(controller, caller=CALLER, wait_s=15.0)
    [card_input] = [i for i in record["inputs"] if i["node"] == "card"]
    assert card_input["sensitive"] is True and CARD not in card_input["value"], card_input
    assert record["path"][:3] == ["card", "readback", "q"], record  # the card was taken (Luhn-valid)
    assert record["agent"] == OPERATOR, record

    def recordings() -> list[dict[str, Any]]:
        return list(controller.get(f"/api/calls/{record['id']}")[1]["recordings"])

    await until(lambda: bool(recordings()), within_s=20, what="the conversation's recording")
    await asyncio.sleep(3.0)  # give a finished recording time to be filed (the files are searched too)
    [recording] = recordings()
    assert recording["started_at"] >= card_input["at"]  # it began with the operator, after the card entry
    await asyncio.sleep(1.0)  # Asterisk's CDR and queue_log lines are written at hangup

    answers = {
        "/api/calls": _api(controller, "/api/calls?limit=200"),
        "/api/calls/<id>": _api(controller, f"/api/calls/{record['id']}"),
        "/api/calls?number=": _api(controller, f"/api/calls?number={CALLER}"),
        "/api/report/export.csv": _api(controller, "/api/report/export.csv?since=today"),
    }
    assert CALLER.encode() in answers["/api/report/export.csv"]  # the call is in the export checked
    leaks = {what: found for what, body in answers.items() if (found := _leaks(body))}
    assert not leaks, leaks

    roots = [pbx.data_dir, pbx.pbx.instance_dir]  # var/ (db, WAL, logs, recordings) and Asterisk's files
    searched = list(_files(*roots))
    names = {p.name for p in searched}
    assert {"controller.log", "messages.log", "security.log", "Master.csv", "queue_log"} <= names, names
    wavs = [p for p in searched if p.suffix == ".wav" and p.name.startswith(str(record["id"]))]
    assert wavs, "the recording is in neither the spool nor the recordings folder"
    assert any(p.name.startswith("ivr.db") for p in searched)
    leaks = {str(p): found for p in searched if (found := _leaks(p.read_bytes()))}
    assert not leaks, f"the card number leaked into: {leaks}"
    # The recording's file name and metadata hold nothing of the card either.
    assert not _leaks(repr(recording).encode()), recording
