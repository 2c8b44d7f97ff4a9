"""Feature codes an operator dials from the phone. Pure parsing; ``acd.phone_features`` acts on them.

*21        log in (available)          *24   unpause (available)
*22        log out                     *25   end wrap-up now (available)
*23        pause ("break")             *23N  pause with reason code N (see PAUSE_REASONS)
"""

from __future__ import annotations

from dataclasses import dataclass

PAUSE_REASONS = {
    "1": "break",
    "2": "lunch",
    "3": "meeting",
    "4": "training",
    "5": "after-call work",
    "6": "outbound",
}


@dataclass(frozen=True)
class FeatureRequest:
    state: str  # available | paused | logged_out
    reason: str | None = None


def parse_feature(exten: str) -> FeatureRequest | None:
    """The state change a dialled code asks for, or None for an unknown code."""
    code = exten.strip()
    if code in ("*21", "*24", "*25"):
        return FeatureRequest("available")
    if code == "*22":
        return FeatureRequest("logged_out")
    if code == "*23":
        return FeatureRequest("paused", PAUSE_REASONS["1"])
    if code.startswith("*23") and code[3:] in PAUSE_REASONS:
        return FeatureRequest("paused", PAUSE_REASONS[code[3:]])
    return None


def agent_of_channel(channel_name: str) -> str | None:
    """``PJSIP/2101-0000001a`` → ``2101`` (the endpoint a call came from)."""
    tech, _, rest = channel_name.partition("/")
    if tech != "PJSIP" or not rest:
        return None
    endpoint, _, _ = rest.rpartition("-")
    return endpoint or None
