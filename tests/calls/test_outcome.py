from ivr.calls.outcome import final_outcome


def test_flow_declared_outcome_wins() -> None:
    assert final_outcome(flow_outcome="voicemail", flow_finished=False, failed=False) == "voicemail"
    assert final_outcome(flow_outcome="callback", flow_finished=True, failed=True) == "callback"


def test_caller_hangs_up_before_flow_ends_is_abandoned() -> None:
    assert final_outcome(flow_outcome=None, flow_finished=False, failed=False) == "abandoned"


def test_flow_finished_is_completed() -> None:
    assert final_outcome(flow_outcome=None, flow_finished=True, failed=False) == "completed"


def test_controller_failure_is_failed_and_unknown_outcome_ignored() -> None:
    assert final_outcome(flow_outcome=None, flow_finished=False, failed=True) == "failed"
    assert final_outcome(flow_outcome="bogus", flow_finished=True, failed=False) == "completed"
