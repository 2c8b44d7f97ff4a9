"""What the SIPp phones saw, read from their ``-trace_msg`` files: pure parsing and statistics for
``python -m bench.acd``.

Both ACDs are measured the same way, from the outside: the callers' trace gives the moment each caller
entered the queue (the caller's 200 OK: both systems answer and queue at once), the operators' traces
give when each phone was rung (INVITE received), answered (200 OK sent) and freed (BYE). Calls are
matched across traces by the caller's number, which is unique per call (``bench/scenarios/acd_caller.xml``)
and reaches the operator's phone in the INVITE's From.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bench.router import percentile

_HEADER = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d)[ \t](\d\d:\d\d:\d\d(?:\.\d+)?)\s*$")
_DIRECTION = re.compile(r"^\S+ message (sent|received)\b")
_FROM_USER = re.compile(r"<?sips?:([^@>;:\s]+)@", re.IGNORECASE)


@dataclass(frozen=True)
class SipMessage:
    """One SIP message in a SIPp trace; ``at`` is seconds since the epoch (the machine's clock)."""

    at: float
    sent: bool
    first_line: str
    call_id: str
    from_user: str
    cseq_method: str

    @property
    def method(self) -> str | None:
        """The request's method, None for a response."""
        return None if self.first_line.startswith("SIP/2.0") else self.first_line.split(" ", 1)[0]

    @property
    def status(self) -> int | None:
        """The response's status code, None for a request."""
        if not self.first_line.startswith("SIP/2.0 "):
            return None
        try:
            return int(self.first_line.split()[1])
        except (IndexError, ValueError):
            return None


def _header(lines: Sequence[str], name: str) -> str:
    prefix = name.lower() + ":"
    for line in lines:
        if line.lower().startswith(prefix):
            return line.split(":", 1)[1].strip()
    return ""


def _message(at: float, direction: str, lines: list[str]) -> SipMessage | None:
    body = [line for line in lines if line.strip()]
    if not body:
        return None
    from_header = _header(body, "From") or _header(body, "f")
    user = _FROM_USER.search(from_header)
    cseq = _header(body, "CSeq").split()
    return SipMessage(
        at=at,
        sent=direction == "sent",
        first_line=body[0].strip(),
        call_id=_header(body, "Call-ID") or _header(body, "i"),
        from_user=user.group(1) if user else "",
        cseq_method=cseq[1] if len(cseq) > 1 else "",
    )


def parse_messages(text: str) -> list[SipMessage]:
    """Every message of a SIPp ``-message_file``, in file order (retransmissions included)."""
    out: list[SipMessage] = []
    at: float | None = None
    direction = ""
    lines: list[str] = []

    def flush() -> None:
        if at is not None and direction:
            message = _message(at, direction, lines)
            if message is not None:
                out.append(message)

    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            flush()
            at = dt.datetime.fromisoformat(f"{header.group(1)} {header.group(2)}").timestamp()
            direction, lines = "", []
            continue
        if at is not None and not direction:
            found = _DIRECTION.match(line)
            if found:
                direction = found.group(1)
            continue
        lines.append(line)
    flush()
    return out


@dataclass(frozen=True)
class Offer:
    """One INVITE an operator's phone received: rung, maybe answered, ended (BYE or CANCEL)."""

    agent: str
    call_id: str
    caller: str
    rang_at: float
    answered_at: float | None
    ended_at: float | None

    @property
    def ring_s(self) -> float | None:
        return None if self.answered_at is None else self.answered_at - self.rang_at


def agent_offers(agent: str, messages: Iterable[SipMessage]) -> list[Offer]:
    """The offers in one operator phone's trace, by time rung. First occurrences count (a
    retransmitted INVITE, 200 or BYE does not move a time)."""
    rang: dict[str, SipMessage] = {}
    answered: dict[str, float] = {}
    ended: dict[str, float] = {}
    for m in messages:
        if m.method == "INVITE" and not m.sent:
            rang.setdefault(m.call_id, m)
        elif m.sent and m.status == 200 and m.cseq_method == "INVITE":
            answered.setdefault(m.call_id, m.at)
        elif m.method in ("BYE", "CANCEL"):
            ended.setdefault(m.call_id, m.at)
    offers = [
        Offer(agent, cid, m.from_user, m.at, answered.get(cid), ended.get(cid)) for cid, m in rang.items()
    ]
    return sorted(offers, key=lambda o: o.rang_at)


def caller_entries(messages: Iterable[SipMessage]) -> dict[str, float]:
    """Caller number → when the caller entered the queue (its first 200 OK to the INVITE received)."""
    entered: dict[str, float] = {}
    for m in messages:
        if not m.sent and m.status == 200 and m.cseq_method == "INVITE" and m.from_user:
            entered.setdefault(m.from_user, m.at)
    return entered


@dataclass(frozen=True)
class Dispatch:
    """Ring minus the moment both the operator was free (wrap-up over) and the caller waited.
    ``queued``: the caller was waiting first, so this is "operator free → phone rings", and ``gap_s``
    is the operator's whole pause between the calls (previous BYE → this ring, wrap-up included)."""

    latency_s: float
    queued: bool
    gap_s: float | None = None


def dispatches(
    offers: Sequence[Offer], entered: Mapping[str, float], wrapup_s: float
) -> tuple[list[Dispatch], int]:
    """Dispatch latencies of one operator's offers (sorted by ``rang_at``) and how many offers had no
    caller to match. The operator is free ``wrapup_s`` after the BYE of an answered call, at once after a
    ring that ended unanswered, and from the start before its first offer."""
    out: list[Dispatch] = []
    unmatched = 0
    free_at: float | None = None
    ended_at: float | None = None
    for offer in offers:
        came = entered.get(offer.caller)
        if came is None:
            unmatched += 1
        elif free_at is None or ended_at is None or free_at < came:
            out.append(Dispatch(offer.rang_at - (came if free_at is None else max(came, free_at)), False))
        else:
            out.append(Dispatch(offer.rang_at - free_at, True, offer.rang_at - ended_at))
        if offer.ended_at is not None:
            ended_at = offer.ended_at
            free_at = offer.ended_at + (wrapup_s if offer.answered_at is not None else 0.0)
    return out, unmatched


def order_inversions(offers: Iterable[Offer], entered: Mapping[str, float]) -> int:
    """Pairs of callers rung in the opposite order of their arrival (each caller's first ring; 0 = FIFO)."""
    first: dict[str, float] = {}
    for offer in offers:
        if offer.caller in entered and offer.rang_at < first.get(offer.caller, float("inf")):
            first[offer.caller] = offer.rang_at
    arrivals = [entered[c] for c in sorted(first, key=lambda c: first[c])]
    return sum(1 for i, a in enumerate(arrivals) for b in arrivals[i + 1 :] if a > b)


@dataclass(frozen=True)
class Figures:
    """One system's run, as the phones saw it."""

    callers: int  # callers answered (entered the queue)
    answered: int  # of those, connected to an operator
    offers: int
    unanswered_offers: int
    unmatched_offers: int
    dispatch_s: tuple[float, ...]
    dispatch_idle_s: tuple[float, ...]  # an operator was free when the caller came: entry → ring
    dispatch_queued_s: tuple[float, ...]  # the caller waited: operator free (BYE + wrap-up) → ring
    gap_queued_s: tuple[float, ...]  # the caller waited: operator's previous BYE → ring
    inversions: int
    asa_s: tuple[float, ...]  # queue entry → operator answers, per answered caller
    ring_s: tuple[float, ...]  # operator's INVITE → 200 OK, per answered offer


def figures(
    offers_by_agent: Mapping[str, Sequence[Offer]], entered: Mapping[str, float], wrapup_s: float
) -> Figures:
    all_dispatch: list[Dispatch] = []
    unmatched = 0
    first_answer: dict[str, float] = {}
    ring: list[float] = []
    offers = 0
    unanswered = 0
    for agent_offers_ in offers_by_agent.values():
        found, missing = dispatches(agent_offers_, entered, wrapup_s)
        all_dispatch += found
        unmatched += missing
        for offer in agent_offers_:
            offers += 1
            if offer.answered_at is None or offer.ring_s is None:
                unanswered += 1
                continue
            ring.append(offer.ring_s)
            if offer.caller in entered:
                previous = first_answer.get(offer.caller)
                if previous is None or offer.answered_at < previous:
                    first_answer[offer.caller] = offer.answered_at
    asa = [first_answer[c] - entered[c] for c in first_answer]
    return Figures(
        callers=len(entered),
        answered=len(first_answer),
        offers=offers,
        unanswered_offers=unanswered,
        unmatched_offers=unmatched,
        dispatch_s=tuple(sorted(d.latency_s for d in all_dispatch)),
        dispatch_idle_s=tuple(sorted(d.latency_s for d in all_dispatch if not d.queued)),
        dispatch_queued_s=tuple(sorted(d.latency_s for d in all_dispatch if d.queued)),
        gap_queued_s=tuple(sorted(d.gap_s for d in all_dispatch if d.gap_s is not None)),
        inversions=order_inversions((o for offers in offers_by_agent.values() for o in offers), entered),
        asa_s=tuple(sorted(asa)),
        ring_s=tuple(sorted(ring)),
    )


def pct(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile, None for no values."""
    return percentile(values, p) if values else None


def share_within(values: Sequence[float], limit_s: float) -> float | None:
    """The share (0..1) of ``values`` at most ``limit_s``, None for no values."""
    return sum(v <= limit_s for v in values) / len(values) if values else None
