"""Where a call's life is decided. Pure: facts in, decisions out.

Read this file to know, for every call:

- which flow a new call runs, and where a call adopted after a controller restart resumes
  (``start_new``, ``start_adopted``);
- whether an event may still move the caller through the flow (``CallLife.accepts_flow_events``);
- when the controller hangs up (``CallLife.must_hang_up``);
- the outcome and cause written to the record when the call ends (``CallLife.ending``).

The flow engine owns the flow's outcome (``CallState.outcome``); the session and executor report facts
here (answered, who hung up, the channel gone, a controller failure) and ask; they decide nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ivr.ari.causes import Q850
from ivr.flows.model import Flow
from ivr.flows.registry import UnknownFlow

OUTCOMES = ("completed", "abandoned", "voicemail", "callback", "failed")


class FlowSource(Protocol):
    def get(self, name: str) -> Flow: ...
    def for_number(self, dialed: str) -> Flow: ...


@dataclass(frozen=True)
class Start:
    call_id: str
    flow: Flow
    resume_at: str | None
    adopted: bool
    queued: tuple[str, datetime] | None = None
    """(queue, entered at) of an adopted caller who was waiting: it keeps its place in line."""


class OpenCallFacts(Protocol):
    """What the store remembers of a call that had not ended when the controller stopped."""

    @property
    def id(self) -> str: ...
    @property
    def flow(self) -> str | None: ...
    @property
    def last_node(self) -> str | None: ...
    @property
    def queue(self) -> str | None: ...
    @property
    def queued_at(self) -> datetime | None: ...


def start_new(flows: FlowSource, dialed: str, new_id: str) -> Start:
    """A caller entering the app: the flow that claims the dialed number (or the default flow)."""
    return Start(new_id, flows.for_number(dialed), None, adopted=False)


def start_adopted(flows: FlowSource, dialed: str, open_call: OpenCallFacts | None, new_id: str) -> Start:
    """A caller found in the app after a (re)connection. A call the store knows keeps its id and resumes
    at the last node it entered, on the flow it started with (or the number's flow if that one is gone);
    a call the store does not know starts afresh."""
    if open_call is None:
        return start_new(flows, dialed, new_id)
    flow = None
    if open_call.flow:
        try:
            flow = flows.get(open_call.flow)
        except UnknownFlow:
            flow = None
    if flow is None:
        flow = flows.for_number(dialed)
    resume_at = open_call.last_node if open_call.last_node in flow.nodes else None
    queued = None
    if open_call.queue is not None and open_call.queued_at is not None:
        queued = (open_call.queue, open_call.queued_at)
    return Start(open_call.id, flow, resume_at, adopted=True, queued=queued)


def cause_text(cause: int | None, cause_txt: str | None = None) -> str | None:
    """``caller hung up (16 normal clearing)``-style text for the record, or None without a cause."""
    if cause is None:
        return None
    text = Q850.get(cause) or cause_txt
    return f"caller hung up ({cause} {text})" if text else f"caller hung up ({cause})"


@dataclass(frozen=True)
class Ending:
    outcome: str
    cause: str


@dataclass
class CallLife:
    """Facts about one caller's channel, and the decisions that follow from them."""

    answered: bool = False
    we_hung_up: bool = False
    hangup_seen: bool = False  # Asterisk reported the hangup (request or channel destroyed)
    channel_gone: bool = False  # left Stasis / destroyed / missing at resync: nothing more to do on it
    vanished: bool = False  # ARI found no such channel (404/409) before any hangup was reported
    failed: bool = False  # the controller failed this call
    detached: bool = False  # the controller is stopping; Asterisk keeps the call for the next one
    cause: str | None = None
    _ended: bool = False

    def hangup_reported(self, cause: str | None, *, destroyed: bool) -> None:
        if not self.we_hung_up and cause is not None:
            self.cause = cause
        self.hangup_seen = True
        if destroyed:
            self.channel_gone = True

    def channel_missing(self) -> None:
        """A command on the caller's channel found it gone (404/409). After a reported hangup that is
        its end. Without one the reason is not known yet: a hangup whose events are still on their way
        (StasisEnd follows), or Asterisk itself gone — then the events connection is down and the resync
        at the reconnection says so (``gone_at_resync``, cause ``Asterisk restarted``). The call waits
        for one of them, so a lost call is not recorded as "caller hung up"."""
        self.vanished = True
        if self.hangup_seen:
            self.channel_gone = True

    def gone_at_resync(self, cause: str | None) -> None:
        """The resync found the channel gone; ``cause`` is why when known (Asterisk restarted)."""
        self.channel_gone = True
        if cause is not None:
            self.cause = cause

    def accepts_flow_events(self) -> bool:
        """Events that trail a hangup (a prompt cut short by it) must not move the caller on."""
        return not (self.hangup_seen or self.channel_gone or self.vanished)

    def should_end(self) -> bool:
        """The call's task stops consuming events."""
        return self.channel_gone

    def must_hang_up(self, flow_finished: bool) -> bool:
        return flow_finished and not self.we_hung_up and not self.channel_gone

    def ending(self, *, flow_finished: bool, flow_outcome: str | None) -> Ending | None:
        """The record's end, once; None when the controller is only detaching (the call goes on)."""
        if self._ended or self.detached:
            return None
        self._ended = True
        if self.we_hung_up:
            cause = "ivr hung up"
        elif self.failed:
            cause = "controller failure"
        else:
            # A BYE ends Stasis before Asterisk reports a Q.850 cause, so often there is none.
            cause = self.cause or "caller hung up"
        if flow_outcome in OUTCOMES:
            outcome = flow_outcome
        elif self.failed:
            outcome = "failed"
        else:
            outcome = "completed" if flow_finished else "abandoned"
        return Ending(outcome, cause)
