"""Contact-center figures from call facts: ring-to-answer, ASA, service level, abandons, AHT, CSAT.

Pure: synchronous, no I/O, no clock. The caller builds the facts (from the store) and passes the window.
Definitions are those of DESIGN.md "Service standard and KPIs"; docs/metrics.md says how each figure is
counted. Every figure is ``None`` when it is undefined (nothing to count), never a division by zero.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

RING_BUCKETS: tuple[str, ...] = ("1", "2", "3", "4+")
BUSY_STATES: frozenset[str] = frozenset({"on_call", "wrap_up"})
"""Agent states that count as occupied (numerator of occupancy)."""
LOGGED_OUT_STATE = "logged_out"
NOT_ABANDONED_OUTCOMES: frozenset[str] = frozenset({"voicemail", "callback"})
"""Outcomes of an unanswered queued call that are a choice the caller made, not an abandon."""
DEFAULT_SHORT_ABANDON_S = 5.0
_EPS = 1e-9


@dataclass(frozen=True)
class OfferFact:
    """One time an agent's phone was rung for a call."""

    agent: str
    ring_started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = None  # answered | no_answer | cancelled | lost | failed:…


@dataclass(frozen=True)
class CallFact:
    """One call (or one callback attempt, ``kind="callback"``) as the store knows it."""

    id: str
    queue: str | None
    arrived_at: datetime
    ivr_answered_at: datetime | None = None
    queued_at: datetime | None = None
    agent: str | None = None
    agent_answered_at: datetime | None = None
    ended_at: datetime | None = None
    outcome: str | None = None  # completed | abandoned | voicemail | callback | failed
    offers: tuple[OfferFact, ...] = ()
    talk_s: float | None = None
    hold_s: float = 0.0
    wrapup_s: float | None = None
    csat: int | None = None  # 1-5
    kind: str = "call"  # call | callback


@dataclass(frozen=True)
class AgentInterval:
    """An agent spent [start, end) in one state."""

    agent: str
    state: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class ServiceStandard:
    """The shop's answer target: ``target_rings`` rings of ``ring_cycle_s`` seconds each."""

    ring_cycle_s: float
    target_rings: int
    short_abandon_s: float = DEFAULT_SHORT_ABANDON_S

    def __post_init__(self) -> None:
        if not self.ring_cycle_s > 0 or self.target_rings < 1 or self.short_abandon_s < 0:
            raise ValueError(
                f"need ring_cycle_s > 0, target_rings >= 1 and short_abandon_s >= 0, got "
                f"{self.ring_cycle_s}, {self.target_rings}, {self.short_abandon_s}"
            )

    @property
    def target_s(self) -> float:
        return self.target_rings * self.ring_cycle_s


@dataclass(frozen=True)
class GroupFigures:
    """The figures of one group of calls (overall, one queue, one hour)."""

    offered: int
    answered: int
    abandoned: int
    short_abandons: int
    callbacks_requested: int
    callbacks_kept: int
    callbacks_failed: int
    answered_within_target: int
    share_within_target: float | None
    ring_distribution: Mapping[str, int]
    sl: float | None
    sl2: float | None
    asa_s: float | None
    aht_s: float | None
    longest_wait_s: float | None
    abandonment_rate: float | None
    occupancy: float | None
    csat_responses: int
    csat_mean: float | None
    csat_share_satisfied: float | None
    ivr_pickup_p50_s: float | None
    ivr_pickup_p90_s: float | None


@dataclass(frozen=True)
class AgentFigures:
    """The figures of one agent: every offer to them, callbacks included."""

    offered: int
    answered: int
    no_answer: int
    ring_to_answer_s_mean: float | None
    share_within_target: float | None
    aht_s: float | None
    occupancy: float | None
    csat_responses: int
    csat_mean: float | None
    csat_share_satisfied: float | None


# --- small arithmetic -------------------------------------------------------------------------------


def as_utc(moment: datetime) -> datetime:
    """Aware UTC datetime; a naive one is taken to be UTC already (as SQLite hands them back)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return (as_utc(end) - as_utc(start)).total_seconds()


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default); None if empty."""
    items = sorted(values)
    if not items:
        return None
    position = (len(items) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(items) - 1)
    return items[low] + (items[high] - items[low]) * (position - low)


# --- per offer and per call -------------------------------------------------------------------------


def ring_to_answer_s(offer: OfferFact) -> float | None:
    """Agent leg Ringing → Up, in seconds; None if the offer was not answered."""
    return seconds_between(offer.ring_started_at, offer.answered_at)


def rings(seconds: float, ring_cycle_s: float) -> float:
    return seconds / ring_cycle_s


def ring_bucket(seconds: float, ring_cycle_s: float) -> str:
    """ "1" up to and including one full ring cycle, "2" up to two, "3" up to three, else "4+"."""
    count = rings(seconds, ring_cycle_s)
    for limit, name in enumerate(RING_BUCKETS[:-1], start=1):
        if count <= limit + _EPS:
            return name
    return RING_BUCKETS[-1]


def answered_offer(call: CallFact) -> OfferFact | None:
    """The offer that was answered (the first one with an answer time)."""
    return next((o for o in call.offers if o.answered_at is not None), None)


def ivr_pickup_s(call: CallFact) -> float | None:
    """Call arrival → answered by the system."""
    return seconds_between(call.arrived_at, call.ivr_answered_at)


def is_inbound(call: CallFact) -> bool:
    return call.kind != "callback"


def is_offered(call: CallFact) -> bool:
    """An inbound call that entered a queue."""
    return is_inbound(call) and call.queued_at is not None


def is_answered(call: CallFact) -> bool:
    """An offered call an agent answered."""
    return is_offered(call) and call.agent_answered_at is not None


def answer_wait_s(call: CallFact) -> float | None:
    """ASA sample: queue entry → agent answer; None if no agent answered."""
    return seconds_between(call.queued_at, call.agent_answered_at) if is_answered(call) else None


def is_abandon(call: CallFact) -> bool:
    """Queued, ended, never answered by an agent, and not sent to voicemail, a callback or a failure."""
    if not is_offered(call) or call.agent_answered_at is not None or call.ended_at is None:
        return False
    outcome = call.outcome or ""
    return outcome not in NOT_ABANDONED_OUTCOMES and not outcome.startswith("failed")


def abandon_wait_s(call: CallFact) -> float | None:
    """Time in queue of an abandon (queue entry → hang-up); None for any other call."""
    return seconds_between(call.queued_at, call.ended_at) if is_abandon(call) else None


def is_short_abandon(call: CallFact, short_abandon_s: float) -> bool:
    wait = abandon_wait_s(call)
    return wait is not None and wait < short_abandon_s


def handle_time_s(call: CallFact) -> float | None:
    """AHT sample: talk + hold + wrap-up (wrap-up unknown counts 0); None if not answered or talk unknown."""
    if call.agent_answered_at is None or call.talk_s is None:
        return None
    return call.talk_s + call.hold_s + (call.wrapup_s or 0.0)


def valid_csat(call: CallFact) -> int | None:
    return call.csat if call.csat is not None and 1 <= call.csat <= 5 else None


# --- grouping ---------------------------------------------------------------------------------------


def in_window(call: CallFact, since: datetime | None, until: datetime | None) -> bool:
    """Whether the call arrived in [since, until)."""
    arrived = as_utc(call.arrived_at)
    if since is not None and arrived < as_utc(since):
        return False
    return until is None or arrived < as_utc(until)


def hour_of(moment: datetime) -> datetime:
    return as_utc(moment).replace(minute=0, second=0, microsecond=0)


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``: ``2026-12-01T09:00:00Z``."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def by_queue(facts: Iterable[CallFact]) -> dict[str, list[CallFact]]:
    groups: dict[str, list[CallFact]] = {}
    for call in facts:
        if call.queue is not None:
            groups.setdefault(call.queue, []).append(call)
    return dict(sorted(groups.items()))


def by_hour(facts: Iterable[CallFact]) -> dict[datetime, list[CallFact]]:
    """Calls by the UTC hour they arrived in, earliest hour first."""
    groups: dict[datetime, list[CallFact]] = {}
    for call in facts:
        groups.setdefault(hour_of(call.arrived_at), []).append(call)
    return dict(sorted(groups.items()))


def agents_seen(facts: Iterable[CallFact], intervals: Iterable[AgentInterval] = ()) -> list[str]:
    names: set[str] = {i.agent for i in intervals}
    for call in facts:
        names.update(o.agent for o in call.offers)
        if call.agent is not None:
            names.add(call.agent)
    return sorted(names)


# --- figures ----------------------------------------------------------------------------------------


def occupancy(
    intervals: Iterable[AgentInterval],
    *,
    agent: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> float | None:
    """Time on_call + wrap_up ÷ time logged in (every state but logged_out), clipped to [since, until)."""
    busy = logged_in = 0.0
    for interval in intervals:
        if (agent is not None and interval.agent != agent) or interval.state == LOGGED_OUT_STATE:
            continue
        start, end = as_utc(interval.start), as_utc(interval.end)
        if since is not None:
            start = max(start, as_utc(since))
        if until is not None:
            end = min(end, as_utc(until))
        length = (end - start).total_seconds()
        if length <= 0:
            continue
        logged_in += length
        if interval.state in BUSY_STATES:
            busy += length
    return ratio(busy, logged_in)


def _ring_figures(calls: Sequence[CallFact], standard: ServiceStandard) -> tuple[list[float], dict[str, int]]:
    seconds: list[float] = []
    distribution = dict.fromkeys(RING_BUCKETS, 0)
    for call in calls:
        offer = answered_offer(call)
        value = ring_to_answer_s(offer) if offer is not None else None
        if value is not None:
            seconds.append(value)
            distribution[ring_bucket(value, standard.ring_cycle_s)] += 1
    return seconds, distribution


def _csat(calls: Iterable[CallFact]) -> tuple[int, float | None, float | None]:
    scores = [s for s in (valid_csat(c) for c in calls) if s is not None]
    satisfied = sum(1 for s in scores if s >= 4)
    return len(scores), mean(scores), ratio(satisfied, len(scores))


def group_figures(
    facts: Sequence[CallFact], standard: ServiceStandard, *, occupancy: float | None = None
) -> GroupFigures:
    """Figures of a group of facts; queue figures count inbound calls, callbacks only in ``callbacks_*``."""
    target = standard.target_s
    inbound = [c for c in facts if is_inbound(c)]
    offered = [c for c in inbound if is_offered(c)]
    answer_waits = [w for w in (answer_wait_s(c) for c in offered) if w is not None]
    all_abandon_waits = [w for w in (abandon_wait_s(c) for c in offered) if w is not None]
    abandon_waits = [w for w in all_abandon_waits if w >= standard.short_abandon_s]
    short_abandons = len(all_abandon_waits) - len(abandon_waits)
    answered_in_target = sum(1 for w in answer_waits if w <= target + _EPS)
    abandoned_in_target = sum(1 for w in abandon_waits if w <= target + _EPS)
    ring_seconds, distribution = _ring_figures([c for c in offered if is_answered(c)], standard)
    within_rings = sum(1 for s in ring_seconds if s <= target + _EPS)
    callbacks = [c for c in facts if not is_inbound(c) and c.ended_at is not None]
    kept = sum(1 for c in callbacks if c.outcome == "completed")
    responses, csat_mean, csat_share = _csat(inbound)
    pickups = [p for p in (ivr_pickup_s(c) for c in inbound) if p is not None]
    handle_times = [h for h in (handle_time_s(c) for c in offered) if h is not None]
    waits = answer_waits + all_abandon_waits
    return GroupFigures(
        offered=len(offered),
        answered=len(answer_waits),
        abandoned=len(abandon_waits),
        short_abandons=short_abandons,
        callbacks_requested=sum(1 for c in inbound if c.outcome == "callback"),
        callbacks_kept=kept,
        callbacks_failed=len(callbacks) - kept,
        answered_within_target=within_rings,
        share_within_target=ratio(within_rings, len(ring_seconds)),
        ring_distribution=distribution,
        sl=ratio(answered_in_target, len(answer_waits)),
        sl2=ratio(answered_in_target + abandoned_in_target, len(answer_waits) + len(abandon_waits)),
        asa_s=mean(answer_waits),
        aht_s=mean(handle_times),
        longest_wait_s=max(waits) if waits else None,
        abandonment_rate=ratio(len(abandon_waits), len(offered) - short_abandons),
        occupancy=occupancy,
        csat_responses=responses,
        csat_mean=csat_mean,
        csat_share_satisfied=csat_share,
        ivr_pickup_p50_s=percentile(pickups, 50),
        ivr_pickup_p90_s=percentile(pickups, 90),
    )


def agent_figures(
    facts: Sequence[CallFact], agent: str, standard: ServiceStandard, *, occupancy: float | None = None
) -> AgentFigures:
    """Figures of one agent over every offer made to them (callbacks included)."""
    offers = [o for c in facts for o in c.offers if o.agent == agent]
    ring_seconds = [s for s in (ring_to_answer_s(o) for o in offers) if s is not None]
    handled = [c for c in facts if c.agent == agent]
    handle_times = [h for h in (handle_time_s(c) for c in handled) if h is not None]
    responses, csat_mean, csat_share = _csat(handled)
    within = sum(1 for s in ring_seconds if s <= standard.target_s + _EPS)
    return AgentFigures(
        offered=len(offers),
        answered=len(ring_seconds),
        no_answer=sum(1 for o in offers if o.outcome == "no_answer"),
        ring_to_answer_s_mean=mean(ring_seconds),
        share_within_target=ratio(within, len(ring_seconds)),
        aht_s=mean(handle_times),
        occupancy=occupancy,
        csat_responses=responses,
        csat_mean=csat_mean,
        csat_share_satisfied=csat_share,
    )
