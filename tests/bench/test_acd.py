"""The ACD benchmark's pure helpers and the consistency of its two twins (our queue and app_queue's)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from acd.config import load_acd
from bench.acd import (
    AGENT_SCENARIO,
    AGENTS_FILE,
    FLOWS_DIR,
    PREFIXES,
    QUEUES_FILE,
    SERVICES,
    answer_delays,
    call_numbers,
    check_app_queue_twin,
    injection_file,
    parse_systems,
    queue_conf,
    system_offers,
)
from bench.acd_trace import Offer
from ivr.flows.loader import load_file

ROOT = Path(__file__).resolve().parents[2]

CONF = """; comment
[general]
persistentmembers = no

[bench-queue]
; members below
strategy = leastrecent ; trailing comment
wrapuptime=2
member => PJSIP/3201
member => PJSIP/3202

[other]
strategy = ringall
"""


def test_queue_conf_reads_one_section_with_repeated_members() -> None:
    assert queue_conf(CONF, "bench-queue") == {
        "strategy": ["leastrecent"],
        "wrapuptime": ["2"],
        "member": ["PJSIP/3201", "PJSIP/3202"],
    }
    assert queue_conf(CONF, "missing") == {}


def test_app_queue_is_configured_like_our_queue_with_the_same_operators() -> None:
    config, errors = load_acd(AGENTS_FILE, QUEUES_FILE)
    assert config is not None, errors
    assert check_app_queue_twin(config) == []
    conf = queue_conf((ROOT / "asterisk_conf" / "queues.conf").read_text(), "bench-queue")
    assert conf["strategy"] == ["leastrecent"] and conf["ringinuse"] == ["no"]


def test_the_bench_flow_loads_against_the_bench_queues_and_dials_the_bench_number() -> None:
    config, errors = load_acd(AGENTS_FILE, QUEUES_FILE)
    assert config is not None, errors
    flow, problems = load_file(
        FLOWS_DIR / "acd_bench.yaml",
        queues=config.queue_names(),
        departments=config.department_extensions(),
    )
    assert flow is not None, problems
    assert SERVICES["acd"] in flow.numbers


def test_the_shipped_flows_still_load_with_the_bench_queues() -> None:
    """The controller loads the shipped flows too; one naming a queue the bench files lack stops it."""
    config, errors = load_acd(AGENTS_FILE, QUEUES_FILE)
    assert config is not None, errors
    for path in sorted((ROOT / "ivr" / "flows" / "defaults").glob("*.yaml")):
        flow, problems = load_file(
            path, queues=config.queue_names(), departments=config.department_extensions()
        )
        assert flow is not None, (path.name, problems)


def test_app_queue_side_is_dialable_in_the_dialplan() -> None:
    text = (ROOT / "asterisk_conf" / "extensions.conf").read_text()
    assert f"exten => {SERVICES['app_queue']},1,Goto(bench-queue,s,1)" in text
    context = text.split("[bench-queue]", 1)[1].split("\n[", 1)[0]
    assert "Answer()" in context and "Queue(bench-queue" in context


def test_answer_delays_are_uniform_tenths_and_repeat_with_the_seed() -> None:
    delays = answer_delays(500, seed=7)
    assert delays == answer_delays(500, seed=7)
    assert delays != answer_delays(500, seed=8)
    assert min(delays) >= 1.0 and max(delays) <= 6.0
    assert all(abs(d * 10 - round(d * 10)) < 1e-9 for d in delays)
    assert min(delays) < 1.5 and max(delays) > 5.5  # spread over the whole range
    assert 3.0 < sum(delays) / len(delays) < 4.0


def test_call_numbers_carry_the_delay_the_agent_phone_reads() -> None:
    numbers = call_numbers(PREFIXES["acd"], [1.0, 3.5, 6.0])
    assert numbers == ["8110001", "8135002", "8160003"]
    # the regular expression of bench/scenarios/acd_agent.xml, applied to the INVITE's From
    found = re.search(r'regexp="(sips\?:\[0-9\][^"]*)"', AGENT_SCENARIO.read_text())
    assert found is not None
    pattern = found.group(1).replace("&gt;", ">")
    read = [re.search(pattern, f'"bench" <sip:{n}@127.0.0.1>') for n in numbers]
    assert [int(m.group(1)) * 100 for m in read if m] == [1000, 3500, 6000]
    with pytest.raises(ValueError):
        call_numbers("81", [0.5])


def test_injection_file_is_sequential_one_number_per_call() -> None:
    assert injection_file(["8110001", "8135002"]) == "SEQUENTIAL\n8110001;\n8135002;\n"


def test_each_system_keeps_only_its_callers_rings() -> None:
    ours = Offer("3201", "x", "8130001", 1.0, 2.0, 3.0)
    theirs = Offer("3201", "y", "8230001", 4.0, 5.0, 6.0)
    assert system_offers([ours, theirs], "acd") == [ours]
    assert system_offers([ours, theirs], "app_queue") == [theirs]


def test_systems_are_named_once_each() -> None:
    assert parse_systems("app_queue, acd") == ("app_queue", "acd")
    for bad in ("", "acd,acd", "queue"):
        with pytest.raises(ValueError):
            parse_systems(bad)
