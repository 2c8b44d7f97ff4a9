"""Feature codes dialled from an operator's phone (pure parsing)."""

from __future__ import annotations

import pytest

from acd.agents import REQUESTABLE
from acd.feature_codes import PAUSE_REASONS, FeatureRequest, agent_of_channel, parse_feature


@pytest.mark.parametrize(
    ("code", "wanted"),
    [
        ("*21", FeatureRequest("available")),
        ("*22", FeatureRequest("logged_out")),
        ("*23", FeatureRequest("paused", "break")),
        ("*231", FeatureRequest("paused", "break")),
        ("*232", FeatureRequest("paused", "lunch")),
        ("*233", FeatureRequest("paused", "meeting")),
        ("*234", FeatureRequest("paused", "training")),
        ("*235", FeatureRequest("paused", "after-call work")),
        ("*236", FeatureRequest("paused", "outbound")),
        ("*24", FeatureRequest("available")),
        ("*25", FeatureRequest("available")),
        (" *22 ", FeatureRequest("logged_out")),
    ],
)
def test_each_code_asks_for_its_state(code: str, wanted: FeatureRequest) -> None:
    assert parse_feature(code) == wanted


@pytest.mark.parametrize("code", ["", "*2", "*20", "*26", "*230", "*237", "*2311", "21", "*23a", "2101"])
def test_other_numbers_are_not_feature_codes(code: str) -> None:
    assert parse_feature(code) is None


def test_every_pause_reason_has_its_code() -> None:
    for digit, reason in PAUSE_REASONS.items():
        assert parse_feature(f"*23{digit}") == FeatureRequest("paused", reason)


def test_every_code_asks_for_a_requestable_state() -> None:
    codes = ["*21", "*22", "*23", "*24", "*25"] + [f"*23{d}" for d in PAUSE_REASONS]
    for code in codes:
        request = parse_feature(code)
        assert request is not None and request.state in REQUESTABLE


@pytest.mark.parametrize(
    ("name", "agent"),
    [
        ("PJSIP/2101-0000001a", "2101"),
        ("PJSIP/2108-00000001", "2108"),
        ("PJSIP/my-phone-00000002", "my-phone"),
        ("SIP/2101-00000001", None),
        ("Local/2101@agents-00000001;1", None),
        ("PJSIP/", None),
        ("PJSIP/2101", None),
        ("", None),
    ],
)
def test_the_agent_is_the_endpoint_the_call_came_from(name: str, agent: str | None) -> None:
    assert agent_of_channel(name) == agent
