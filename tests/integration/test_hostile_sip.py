"""Hostile SIP on the real Asterisk: malformed and hostile caller IDs and headers, calls from an address
that is not the trunk, agents' digest auth, no anonymous endpoint, and a REGISTER brute force in the
security log. Calls go to the session ``pbx``/``controller``; nothing here changes their state."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ivr.calls.callerid import MAX_NAME, MAX_NUMBER, caller_name
from ivr.testing.rtp_pcap import Dtmf, Silence, write_pcap
from ivr.testing.sipp import SippResult, free_udp_port, run_sipp
from ivr.testing.stack import ControllerProcess, TestPbx
from tests.integration.calls import call, newest_call

pytestmark = pytest.mark.asterisk

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
AGENT = "3107"  # a test agent (tests/integration/acd/agents.yaml) the session controller provisioned
NOT_THE_TRUNK = "127.0.0.2"  # on loopback, but the trunk is identified by 127.0.0.1
UNKNOWN_ACCOUNT = re.compile(r'SecurityEvent="InvalidAccountID"')
FAILED_AUTH = re.compile(r'SecurityEvent="(InvalidPassword|ChallengeResponseFailed)"')


@dataclass(frozen=True)
class Hostile:
    what: str
    number: str  # the From URI's user part, as sent
    display: str  # the From display name, as sent (str: lone surrogates become raw bytes)
    extra_header: str = "X-Note: hostile-sip-test"
    stored_number: str | None = None  # what the record's number starts with (default: number)


HOSTILE = [
    Hostile("huge display name", "0319990001", "A" * 2000),
    Hostile("huge user part", "0319990002" + "9" * 400, "Long Number"),
    Hostile("non-UTF-8 bytes", "0319990003", "Caf\udce9 \udcff\udcfe end"),  # raw 0xE9 0xFF 0xFE
    Hostile("SQL", "0319990004", "'; DROP TABLE calls;--"),
    Hostile("HTML", "0319990005", "<script>alert(1)</script><img src=x onerror=alert(2)>"),
    Hostile("format strings", "0319990006", "%s%n%x%p ${EXTEN} $(id) {0} %(name)s"),
    Hostile("terminal escapes", "0319990007", "\x1b[31mRED\x07\x08 bell"),
    Hostile(
        "CRLF escaped in the user part",
        "0319990008%0D%0AX-Injected:%20yes",
        "CRLF In User",
        stored_number="0319990008",
    ),
    Hostile("spreadsheet formula", "=1+2*(3)", "Formula Number"),
    Hostile(
        "hostile extra headers",
        "0319990009",
        "Extra Headers",
        extra_header="X-Evil: <script>alert(1)</script>'; DROP TABLE calls;-- %s%n\x1b[2J " + "Z" * 1500,
    ),
]


def _from_value(number: str, display: str) -> str:
    return f'"{display}" <sip:{number}@127.0.0.1>'


def _final_statuses(log_dir: Path) -> list[int]:
    """The status codes of the SIP responses SIPp received (its -trace_msg file)."""
    text = (log_dir / "messages.log").read_text(errors="replace")
    return [int(code) for code in re.findall(r"message received \[\d+\] bytes :\s+SIP/2\.0 (\d{3})", text)]


async def _invite(
    pbx: TestPbx, tmp_path: Path, name: str, from_value: str, *, extra_header: str = "X-Note: t", **kw: Any
) -> tuple[SippResult, list[int]]:
    """An INVITE to the echo line (100) with this From; if answered, the caller keys 1# and waits for the
    IVR's BYE. Returns SIPp's result and the status codes it received (SIPp's trace in sipp-<name>)."""
    pcap = write_pcap(tmp_path / f"{name}.pcap", [Silence(5.0), Dtmf("1#"), Silence(8.0)])
    result = await run_sipp(
        SCENARIOS / "hostile_caller.xml",
        pbx.sip_target,
        service="100",
        pcap=pcap,
        keys={"from_value": from_value, "extra_header": extra_header},
        timeout_s=40,
        recv_timeout_s=35,
        log_dir=tmp_path / f"sipp-{name}",
        **kw,
    )
    return result, _final_statuses(tmp_path / f"sipp-{name}")


async def _hostile_call(pbx: TestPbx, tmp_path: Path, case: Hostile) -> tuple[SippResult, list[int]]:
    from_value = _from_value(case.number, case.display)
    return await _invite(pbx, tmp_path, case.number[:10], from_value, extra_header=case.extra_header)


def _csv_export(controller: ControllerProcess) -> str:
    req = urllib.request.Request(controller.base_url + "/api/report/export.csv?since=today")
    req.add_header("Authorization", f"Bearer {controller.token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(resp.read().decode())


def _records_from(controller: ControllerProcess, prefix: str) -> list[dict[str, Any]]:
    return [c for c in controller.calls(limit=200) if c["caller"]["number"].startswith(prefix)]


async def _normal_call_works(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path, number: str
) -> None:
    result = await call(pbx, tmp_path, service="100", digits="1#", lead_silence_s=5.0, caller=number)
    assert result.ok, result.describe()
    assert newest_call(controller, caller=number)["outcome"] == "completed"


async def test_hostile_caller_ids_are_served_bounded_and_the_controller_lives_on(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    results = await asyncio.gather(*(_hostile_call(pbx, tmp_path, case) for case in HOSTILE))
    for case, (result, statuses) in zip(HOSTILE, results, strict=True):
        assert result.ok, f"{case.what}: {result.describe()}"
        assert 200 in statuses, case.what  # served
        prefix = case.stored_number or case.number[:MAX_NUMBER]
        deadline = time.monotonic() + 10
        while not (found := [r for r in _records_from(controller, prefix) if r["ended_at"]]):
            assert time.monotonic() < deadline, f"{case.what}: no ended record for {prefix}"
            await asyncio.sleep(0.2)
        record = found[0]
        name, number = record["caller"]["name"], record["caller"]["number"]
        assert len(name) <= MAX_NAME and len(number) <= MAX_NUMBER, case.what
        assert name.isprintable() and number.isprintable(), f"{case.what}: {name!r} {number!r}"
        assert record["outcome"] == "completed", f"{case.what}: {record}"
        if case.display.isprintable() and case.display.isascii():  # kept verbatim, only bounded
            assert name and caller_name(case.display).startswith(name), f"{case.what}: {name!r}"
        status, body = controller.get(f"/api/calls/{record['id']}")
        assert status == 200 and body["caller"] == record["caller"], case.what  # JSON, not markup
    huge = _records_from(controller, "0319990001")[0]["caller"]["name"]
    assert 40 <= len(huge) <= MAX_NAME and huge == "A" * len(huge), huge
    long_number = _records_from(controller, "0319990002")[0]["caller"]["number"]
    assert 20 <= len(long_number) <= MAX_NUMBER and HOSTILE[1].number.startswith(long_number), long_number
    odd = _records_from(controller, "0319990003")[0]["caller"]["name"]
    assert odd.startswith("Caf") and odd.endswith("end"), odd  # the valid parts survive
    escapes = _records_from(controller, "0319990007")[0]["caller"]["name"]
    assert escapes == "[31mRED bell"  # ESC, BEL and BS dropped: nothing for a terminal to run
    injected = _records_from(controller, "0319990008")[0]["caller"]["number"]
    assert "\r" not in injected and "\n" not in injected

    csv_export = _csv_export(controller)
    assert "'=1+2*(3)" in csv_export and ",=1+2" not in csv_export  # a spreadsheet will not run it

    log = controller.log_text()
    assert "\x1b[" not in log and "\x07" not in log, "a caller's control characters reached the log"
    assert "Traceback" not in log
    await _normal_call_works(pbx, controller, tmp_path, "0319990099")


MALFORMED = [
    '"Unclosed <sip:0319990010@127.0.0.1>',  # unbalanced quote
    '"Broken" <sip:0319990011@127.0.0.1',  # no closing '>'
    '"Ctl\\\x01" <sip:0319990012@[::zz]>',  # an escaped control character, a nonsense host
]


async def test_malformed_from_headers_are_refused_or_dropped_and_harmless(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    """Asterisk's SIP parser drops what it cannot parse (no answer) or answers 4xx; what it accepts is
    served like any call, with a bounded, printable name."""
    runs = await asyncio.gather(
        *(_invite(pbx, tmp_path, f"malformed{n}", value) for n, value in enumerate(MALFORMED))
    )
    for value, (result, statuses) in zip(MALFORMED, runs, strict=True):
        number = re.search(r"03199900\d\d", value)
        assert number is not None
        if 200 in statuses:  # served after all: then it is a proper, bounded record
            assert result.ok, result.describe()
            record = newest_call(controller, caller=number.group(0))
            assert record["caller"]["name"].isprintable() and record["outcome"] == "completed"
        else:  # refused with a 4xx, or dropped unanswered: no call reached the flows
            assert all(s < 200 or s >= 400 for s in statuses), statuses
            assert not _records_from(controller, number.group(0))
    await _normal_call_works(pbx, controller, tmp_path, "0319990199")


async def test_a_call_from_an_address_that_is_not_the_trunk_is_refused(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    case = Hostile("not the trunk", "0319990020", "Outsider")
    _, statuses = await _invite(
        pbx, tmp_path, "outsider", _from_value(case.number, case.display), local_ip=NOT_THE_TRUNK
    )
    assert statuses and 200 not in statuses and statuses[-1] in (401, 403), statuses
    refused = await _await_events(pbx, NOT_THE_TRUNK, None, UNKNOWN_ACCOUNT, 1)
    assert any(f'AccountID="{case.number}"' in e for e in refused), refused
    assert not _records_from(controller, case.number)  # no Stasis call, no record
    assert case.number not in controller.log_text()


async def test_nothing_answers_as_anonymous(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    """An INVITE from an unknown user at an unknown address is challenged, never routed (the classic
    'anonymous' toll-fraud probe: From: anonymous@anonymous.invalid)."""
    anonymous = '"Anonymous" <sip:anonymous@anonymous.invalid>'
    result, statuses = await _invite(pbx, tmp_path, "anon", anonymous, local_ip=NOT_THE_TRUNK)
    assert statuses and statuses[-1] in (401, 403) and 200 not in statuses, (statuses, result.describe())
    assert not _records_from(controller, "anonymous")
    await _await_events(pbx, NOT_THE_TRUNK, None, UNKNOWN_ACCOUNT, 1)  # refused as an unknown account


async def test_agent_endpoints_need_the_right_password(
    pbx: TestPbx, controller: ControllerProcess, tmp_path: Path
) -> None:
    status, agents = controller.get("/api/agents")
    assert status == 200 and any(a["id"] == AGENT for a in agents)  # provisioned: a real target
    # An INVITE claiming to be the agent, with no credentials, is challenged (the scenario's 401)…
    bare, statuses = await _invite(pbx, tmp_path, "bare", f"<sip:{AGENT}@127.0.0.1>")
    assert statuses and statuses[-1] == 401 and 200 not in statuses, bare.describe()
    # …and one answering the challenge with a wrong password is refused (a 200 fails the scenario).
    invite = await run_sipp(
        SCENARIOS / "invite_wrong_password.xml",
        pbx.sip_target,
        service="100",
        keys={"caller": AGENT},
        auth=(AGENT, "not-the-password"),
        timeout_s=15,
        recv_timeout_s=10,
    )
    assert invite.ok, invite.describe()
    register = await run_sipp(
        SCENARIOS / "register_wrong_password.xml",
        pbx.sip_target,
        service=AGENT,
        auth=(AGENT, "not-the-password"),
        keys={"contact_host": "127.0.0.1", "contact_port": str(free_udp_port())},
        timeout_s=15,
        recv_timeout_s=10,
    )
    assert register.ok, register.describe()
    status, agents = controller.get("/api/agents")
    assert not next(a for a in agents if a["id"] == AGENT)["registered"]


async def _await_events(
    pbx: TestPbx, address: str, port: int | None, kind: re.Pattern[str], count: int, within_s: float = 10.0
) -> list[str]:
    """At least ``count`` security events of ``kind`` from ``address`` (and ``port``), waited for."""
    deadline = time.monotonic() + within_s
    while True:
        events = _security_events(pbx, address, port)
        found = [e for e in events if kind.search(e)]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            seen = "\n".join(events[-5:])
            raise AssertionError(f"{len(found)} of {count} {kind.pattern} events from {address}:\n{seen}")
        await asyncio.sleep(0.3)


def _security_events(pbx: TestPbx, address: str, port: int | None = None) -> list[str]:
    path = pbx.pbx.instance_dir / "log" / "security.log"
    try:
        lines = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return []
    where = f'IPV4/UDP/{address}/{port}"' if port is not None else f"IPV4/UDP/{address}/"
    return [line for line in lines if "SecurityEvent=" in line and where in line]


async def test_a_register_brute_force_is_in_the_security_log(pbx: TestPbx, tmp_path: Path) -> None:
    port = free_udp_port()
    guesses = 30
    result = await run_sipp(
        SCENARIOS / "register_wrong_password.xml",
        pbx.sip_target,
        service=AGENT,
        auth=(AGENT, "guess-0000"),
        keys={"contact_host": "127.0.0.1", "contact_port": str(free_udp_port())},
        calls=guesses,
        rate=15,
        local_port=port,
        timeout_s=30,
        recv_timeout_s=10,
    )
    assert result.ok and result.successful == guesses, result.describe()  # every guess refused
    failed = await _await_events(pbx, "127.0.0.1", port, FAILED_AUTH, guesses)
    assert all(f'AccountID="{AGENT}"' in e for e in failed)
