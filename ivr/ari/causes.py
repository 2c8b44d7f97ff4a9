"""Q.850 hangup cause codes as Asterisk reports them in ``ChannelDestroyed``/``ChannelHangupRequest``."""

from __future__ import annotations

Q850 = {
    16: "normal clearing",
    17: "user busy",
    18: "no user responding",
    19: "no answer",
    21: "call rejected",
    27: "destination out of order",
    31: "normal, unspecified",
    34: "no circuit available",
    38: "network out of order",
    41: "temporary failure",
    127: "interworking",
}
