"""A second ``ivr up`` adopts the Asterisk a killed one left running, or starts afresh, or says why not."""

from __future__ import annotations

import pytest

from ivr.pbx.adoption import LeftRunning, PbxAction, adopt_or_start

URL = "http://127.0.0.1:8088"


def test_nothing_left_running_starts_afresh() -> None:
    decision = adopt_or_start("main", LeftRunning(None, False, None), URL)
    assert decision.action is PbxAction.START
    assert not decision.stale_pidfile


def test_a_pid_file_whose_process_is_gone_or_someone_else_is_stale() -> None:
    decision = adopt_or_start("main", LeftRunning(4242, False, None), URL)
    assert decision.action is PbxAction.START
    assert decision.stale_pidfile


def test_our_asterisk_answering_our_credentials_is_adopted_and_says_so() -> None:
    decision = adopt_or_start("main", LeftRunning(4242, True, 200), URL)
    assert decision.action is PbxAction.ADOPT
    assert "4242" in decision.message and "adopting" in decision.message


@pytest.mark.parametrize(
    ("status", "said"), [(None, "does not answer"), (401, "refuses our credentials (401)")]
)
def test_our_asterisk_without_ari_for_us_is_refused_naming_ivr_pbx_stop(
    status: int | None, said: str
) -> None:
    decision = adopt_or_start("main", LeftRunning(4242, True, status), URL)
    assert decision.action is PbxAction.REFUSE
    assert said in decision.message
    assert "already running (pid 4242)" in decision.message
    assert decision.message.endswith("stop it first: ivr pbx stop")


def test_another_instance_is_named_in_the_stop_command() -> None:
    decision = adopt_or_start("test-1", LeftRunning(7, True, 403), URL)
    assert decision.message.endswith("ivr pbx stop --name test-1")
