"""Which free agent(s) get which waiting call — one pure decision.

Calls are taken in order (-priority, entered_at, call_id). Each takes the best free eligible agent
(or, for ring-all, every free eligible agent); an agent is used at most once per decision.
Eligible: has the queue's skill at no less than the current minimum proficiency (the queue's, relaxed
by the rules whose ``after`` has passed since the call *arrived* — time spent ringing counts), speaks
the caller's language (unless the call has no language or a ``language: any`` rule applies), and is
not in the call's ``exclude``/``busy_with``.

Speed: free agents are indexed by skill and sorted once per (skill, strategy); each eligibility
signature (skill, strategy, minimum, language) keeps a cursor that only moves forward, so a decision
costs about O(calls + free agents) — see ``python -m bench.router``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from heapq import heapify, heappop, heappush
from itertools import islice

from acd.model import QueueConfig

_LONG_AGO = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AgentView:
    """What the router needs to know of one agent."""

    id: str
    skills: Mapping[str, int]
    languages: Collection[str]
    free: bool
    free_since: datetime | None = None
    """When the agent last became free (None = as if free for ever: first in longest-idle)."""
    calls_handled: int = 0


@dataclass(frozen=True, slots=True)
class WaitingCall:
    call_id: str
    queue: str
    priority: int
    entered_at: datetime
    """The original arrival, kept across RONA and escalation: relaxation and FIFO count from it."""
    lang: str | None = None
    kind: str = "call"
    """"call" or "callback"."""
    busy_with: frozenset[str] = frozenset()
    """Agents being rung for this call now (never offered it twice at once)."""
    exclude: frozenset[str] = frozenset()
    """Agents that must not get this call now (e.g. one that just declined it)."""


@dataclass(frozen=True, slots=True)
class Match:
    call_id: str
    agent_ids: tuple[str, ...]
    """One agent, or several for a ring-all queue."""


@dataclass(frozen=True)
class RouteResult:
    matches: list[Match]
    rr_pointers: dict[str, int] = field(default_factory=dict)
    """Round-robin queue -> position (in the ``agents`` mapping's order) to start from next time."""


def current_rules(queue: QueueConfig, waited_s: float) -> tuple[int, bool]:
    """(minimum proficiency, any language) after waiting ``waited_s``.

    Relaxation only ever widens: the minimum is the lowest of the queue's and of every rule reached."""
    level, any_language = queue.min_proficiency, False
    for rule in queue.relax:
        if rule.after_s <= waited_s:
            if rule.min_proficiency is not None:
                level = min(level, rule.min_proficiency)
            any_language = any_language or rule.any_language
    return level, any_language


def call_order(call: WaitingCall) -> tuple[int, datetime, str]:
    return (-call.priority, call.entered_at, call.call_id)


# (position in ``agents``, id, proficiency in the pool's skill, languages)
_Entry = tuple[int, str, int, Collection[str]]


def _pool(free: list[tuple[int, AgentView]], skill: str, strategy: str) -> list[_Entry]:
    entries = [(pos, a) for pos, a in free if skill in a.skills]
    if strategy == "round-robin":
        entries.sort(key=lambda e: e[0])
    elif strategy == "fewest-calls":
        entries.sort(key=lambda e: (e[1].calls_handled, -e[1].skills[skill], e[1].id))
    else:  # longest-idle; also the order of a ring-all Match
        entries.sort(key=lambda e: (e[1].free_since or _LONG_AGO, -e[1].skills[skill], e[1].id))
    return [(pos, a.id, a.skills[skill], a.languages) for pos, a in entries]


def _ok(e: _Entry, level: int, lang: str | None, used: set[str]) -> bool:
    return e[2] >= level and e[1] not in used and (lang is None or lang in e[3])


def route(
    agents: Mapping[str, AgentView],
    waiting: Sequence[WaitingCall],
    queues: Mapping[str, QueueConfig],
    now: datetime,
    rr_pointers: Mapping[str, int] | None = None,
) -> list[Match]:
    """The matches of one decision (round-robin pointers: see ``route_result``)."""
    return route_result(agents, waiting, queues, now, rr_pointers).matches


def route_result(
    agents: Mapping[str, AgentView],
    waiting: Sequence[WaitingCall],
    queues: Mapping[str, QueueConfig],
    now: datetime,
    rr_pointers: Mapping[str, int] | None = None,
) -> RouteResult:
    """Like ``route``, also giving the round-robin pointers to pass to the next decision."""
    free = [(pos, a) for pos, a in enumerate(agents.values()) if a.free]
    decision = _Decision(free, len(agents), dict(rr_pointers or {}))
    if not free or not waiting:
        return RouteResult([], decision.pointers)
    # Calls are grouped by (queue, language, priority). Within a group the head has waited longest, so
    # its rules are the widest: when no agent is left for the head, none is for the rest of the group.
    # Heaps instead of a sort: a decision usually ends long before the last call is looked at.
    groups: dict[tuple[str, str | None, int], list[tuple[datetime, str, int]]] = {}
    for i, c in enumerate(waiting):
        q = queues.get(c.queue)
        if q is not None and decision.remaining.get(q.skill):
            groups.setdefault((c.queue, c.lang, c.priority), []).append((c.entered_at, c.call_id, i))
    heads: list[tuple[int, datetime, str, int, tuple[str, str | None, int]]] = []
    for key, items in groups.items():
        heapify(items)
        heads.append((-key[2], *items[0], key))
    heapify(heads)
    matches: list[Match] = []
    while heads and decision.left > 0:
        *_, i, key = heappop(heads)
        items = groups[key]
        heappop(items)
        call = waiting[i]
        queue = queues[call.queue]
        chosen = decision.pick(call, queue, (now - call.entered_at).total_seconds())
        if chosen is None:
            continue  # nobody left for this group: drop it
        if chosen:
            matches.append(Match(call.call_id, chosen))
        if items:
            heappush(heads, (-key[2], *items[0], key))
    return RouteResult(matches, decision.pointers)


class _Decision:
    """The free agents of one decision, indexed by (skill, strategy), used at most once."""

    def __init__(self, free: list[tuple[int, AgentView]], n_agents: int, pointers: dict[str, int]) -> None:
        self.free = free
        self.n_agents = n_agents
        self.pointers = pointers
        self.left = len(free)
        self.remaining: dict[str, int] = {}
        for _, a in free:
            for skill in a.skills:
                self.remaining[skill] = self.remaining.get(skill, 0) + 1
        self.skills_of = {a.id: a.skills for _, a in free}
        self.pools: dict[tuple[str, str], list[_Entry]] = {}
        self.cursors: dict[tuple[str, str, int, str | None], int] = {}
        self.used: set[str] = set()

    def pick(self, call: WaitingCall, queue: QueueConfig, waited_s: float) -> tuple[str, ...] | None:
        """The agent(s) for ``call``; () if only excluded ones are left; None if none is left at all."""
        skill, strategy = queue.skill, queue.strategy
        if not self.remaining.get(skill):
            return None
        level, any_language = current_rules(queue, waited_s)
        lang = None if any_language else call.lang
        pool = self.pools.get((skill, strategy))
        if pool is None:
            pool = self.pools[(skill, strategy)] = _pool(self.free, skill, strategy)
        # The first usable entry for this signature only moves forward within a decision.
        sig = (skill, strategy, level, lang)
        start, size, used = self.cursors.get(sig, 0), len(pool), self.used
        while start < size and not _ok(pool[start], level, lang, used):
            start += 1
        self.cursors[sig] = start
        if start >= size:
            return None
        skip = call.exclude | call.busy_with
        chosen: tuple[str, ...] = ()
        if strategy == "ring-all":
            chosen = tuple(
                e[1] for e in islice(pool, start, None) if _ok(e, level, lang, used) and e[1] not in skip
            )
        elif strategy == "round-robin":
            first = bisect_left(pool, self.pointers.get(call.queue, 0), key=lambda e: e[0])
            for e in (*pool[first:], *pool[:first]):
                if _ok(e, level, lang, used) and e[1] not in skip:
                    chosen = (e[1],)
                    self.pointers[call.queue] = (e[0] + 1) % self.n_agents
                    break
        else:
            chosen = next(
                (
                    (e[1],)
                    for e in islice(pool, start, None)
                    if _ok(e, level, lang, used) and e[1] not in skip
                ),
                (),
            )
        for agent_id in chosen:
            used.add(agent_id)
            for s in self.skills_of[agent_id]:
                self.remaining[s] -= 1
        self.left -= len(chosen)
        return chosen
