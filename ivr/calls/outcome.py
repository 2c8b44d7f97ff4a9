"""How a call ended, decided from what the flow said and how the channel left. Pure."""

from __future__ import annotations

OUTCOMES = ("completed", "abandoned", "voicemail", "callback", "failed")


def final_outcome(*, flow_outcome: str | None, flow_finished: bool, failed: bool) -> str:
    """The outcome stored with the call record.

    A flow may declare an outcome (``OutcomeSet``): voicemail, callback, completed… The caller
    hanging up before the flow finished without one is an abandon. A controller-side failure that
    ended the call is ``failed`` unless the flow had already reached an outcome.
    """
    if flow_outcome in OUTCOMES:
        return flow_outcome
    if failed:
        return "failed"
    return "completed" if flow_finished else "abandoned"
