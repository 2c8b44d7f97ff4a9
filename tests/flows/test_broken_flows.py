"""Every error kind in tests/flows/broken/ gets a precise, line-numbered message."""

from pathlib import Path

import pytest

from ivr.flows.loader import load_file

BROKEN = Path(__file__).parent / "broken"

EXPECTED = {
    "unknown_key": ["7:5: nodes.start.promt: unknown key 'promt' (did you mean 'prompt'?)"],
    "wrong_type": ["8:14: nodes.start.retries: wrong type: expected a whole number, got the text 'three'"],
    "missing_target": [
        "9:19: nodes.main_menu.options.1.goto: unknown node 'orderz' (did you mean 'orders'?)"
    ],
    "unreachable": ["7:3: nodes.orphan: node 'orphan' is never reached from the entry node 'start'"],
    "inputless_loop": ["5:3: nodes.ping: loop that never waits for caller input: ping → pong → ping"],
    "missing_language": [
        "8:7: nodes.start.prompt: prompt has no 'en' text (the flow declares languages: ja, en)"
    ],
    "unknown_queue": ["7:12: nodes.start.queue: queue 'order' does not exist (did you mean 'orders'?)"],
    "unknown_department": [
        "7:17: nodes.start.department: department 'warehose' does not exist (did you mean 'warehouse'?)"
    ],
    "duplicate_key": ["7:3: nodes.start: duplicate key 'start' (first defined on line 5)"],
    "bad_syntax": [
        "3:6: YAML syntax error: expected ',' or ']', but got ':' (in the flow sequence that starts"
    ],
    "unknown_verb": ["6:11: nodes.start.type: unknown verb 'menuu' (did you mean 'menu'?)"],
    "say_without_prompt": ["7:5: nodes.hello: a say node needs `prompt`, `digits` or both"],
    "unknown_variable": [
        "7:13: nodes.start.prompt: unknown variable 'ordr.status' (did you mean 'order.status'?)"
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_reports_exact_position(name: str) -> None:
    path = BROKEN / f"{name}.yaml"
    flow, errors = load_file(path)
    assert flow is None
    texts = [str(e) for e in errors]
    for expected in EXPECTED[name]:
        assert any(t.startswith(f"{path}:{expected}") for t in texts), texts


def test_every_broken_file_is_covered() -> None:
    assert {p.stem for p in BROKEN.glob("*.yaml")} == set(EXPECTED)


def test_missing_required_key_is_reported_with_the_unknown_one() -> None:
    _, errors = load_file(BROKEN / "unknown_key.yaml")
    assert any("missing required key 'prompt'" in e.message and e.line == 6 for e in errors)
