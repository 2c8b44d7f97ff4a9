"""A large random scenario: whatever happens, an agent is never in two offers and a call never
connected twice, and everything is released once every call is gone."""

from __future__ import annotations

import contextlib
import random
from collections import Counter

import pytest

from acd.agents import AgentState, TransitionNotAllowed
from acd.distributor import Distributor
from acd.events import (
    AcdCommand,
    AcdEvent,
    AgentRequest,
    CallbackAttempt,
    CallGone,
    CallQueued,
    CancelOffer,
    Connect,
    ConversationEnded,
    CustomerAnswered,
    CustomerFailed,
    DialCustomer,
    OfferAnswered,
    OfferEnded,
    OfferFailed,
    OfferRinging,
    QueueLeft,
    RingAgent,
    Tick,
)
from tests.acd.builders import agent, at, config, queue

QUEUES = ("orders", "returns", "complaints", "inquiries", "operator")


class Checker:
    """Replays the commands and fails on the first broken invariant."""

    def __init__(self, skills: dict[str, dict[str, int]], queue_skill: dict[str, str]) -> None:
        self.skills = skills
        self.queue_skill = queue_skill
        self.offer_of_agent: dict[str, str] = {}
        self.live: dict[str, tuple[str, str]] = {}  # offer -> (call, agent)
        self.connected: dict[str, str] = {}  # call -> agent, ever
        self.dialing: dict[str, str] = {}  # callback -> agent, while its customer is dialled
        self.queue_of: dict[str, str] = {}
        self.left: set[str] = set()
        self.seen: Counter[str] = Counter()

    def see(self, out: list[AcdCommand]) -> None:
        for c in out:
            self.seen[type(c).__name__] += 1
            if isinstance(c, OfferEnded | QueueLeft | CallbackAttempt):
                self.seen[c.outcome.split(":")[0]] += 1
            if isinstance(c, RingAgent):
                assert c.agent_id not in self.offer_of_agent, f"{c.agent_id} offered twice"
                assert self.queue_skill[self.queue_of[c.call_id]] in self.skills[c.agent_id]
                assert c.offer_id not in self.live
                self.offer_of_agent[c.agent_id] = c.offer_id
                self.live[c.offer_id] = (c.call_id, c.agent_id)
            elif isinstance(c, OfferEnded):
                call_id, agent_id = self.live.pop(c.offer_id)
                assert (call_id, agent_id) == (c.call_id, c.agent_id)
                del self.offer_of_agent[agent_id]
            elif isinstance(c, Connect):
                assert c.call_id not in self.connected, f"{c.call_id} connected twice"
                self.connected[c.call_id] = c.agent_id
            elif isinstance(c, DialCustomer):
                assert c.call_id not in self.dialing, f"{c.call_id} dialled twice at once"
                self.dialing[c.call_id] = c.agent_id
            elif isinstance(c, CancelOffer) and c.call_id is not None:
                assert c.offer_id in self.live  # cancels come before their OfferEnded
            elif isinstance(c, QueueLeft):
                self.left.add(c.call_id)


@pytest.mark.parametrize("seed", [1])
def test_random_1000_agents_2000_calls_keep_invariants(seed: int) -> None:
    rng = random.Random(seed)
    strategies = ("longest-idle", "fewest-calls", "round-robin", "longest-idle", "ring-all")
    queues = [
        queue(
            name,
            min_proficiency=rng.randint(1, 3),
            strategy=strategy,
            wrapup_s=rng.choice((0.0, 5.0)),
            ring_timeout_s=10.0,
            max_wait_s=rng.choice((45.0, 240.0)),
            announce_every_s=30.0,
            relax=((20, 1), (40, None, True)),
        )
        for name, strategy in zip(QUEUES, strategies, strict=True)
    ]
    agents = [
        agent(
            str(10000 + i),
            {s: rng.randint(1, 5) for s in rng.sample(QUEUES, rng.randint(1, 3))},
            rng.choice((("ja",), ("en",), ("ja", "en"))),
        )
        for i in range(1000)
    ]
    d = Distributor(config(agents, queues), callback_retry_after_s=20.0)
    check = Checker({a.id: dict(a.skills) for a in agents}, {q.name: q.skill for q in queues})
    ids = [a.id for a in agents]

    def send(event: AcdEvent, t: float) -> list[AcdCommand]:
        out = d.handle(event, at(t))
        check.see(out)
        return out

    for a in ids:
        if rng.random() < 0.15:
            send(AgentRequest(a, "available"), 0)
        elif rng.random() < 0.2:
            send(AgentRequest(a, "paused", "setup"), 0)
    connected: set[str] = set()
    waiting: set[str] = set()
    n_calls = 0
    t = 0.0
    while t < 900:
        t += 1
        for _ in range(min(rng.choice((2, 3, 3, 4)), 2000 - n_calls)):
            call_id = f"c{n_calls}"
            n_calls += 1
            kind = "callback" if rng.random() < 0.05 else "call"
            check.queue_of[call_id] = q = rng.choice(QUEUES)
            send(
                CallQueued(
                    call_id,
                    q,
                    rng.choice((0, 0, 5)),
                    rng.choice(("ja", "en", None)),
                    at(t),
                    kind,
                    "0312345678" if kind == "callback" else None,
                ),
                t,
            )
            waiting.add(call_id)
        for offer_id in list(check.live):
            if offer_id not in check.live:
                continue
            r = rng.random()
            if r < 0.25:
                send(OfferAnswered(offer_id, at(t)), t)
            elif r < 0.28:
                send(
                    OfferFailed(
                        offer_id, rng.choice(("busy", "rejected", "unreachable", "reserved elsewhere")), at(t)
                    ),
                    t,
                )
            elif r < 0.4:
                send(OfferRinging(offer_id, at(t)), t)
        for call_id in list(check.connected):
            if call_id in waiting:
                waiting.discard(call_id)
                connected.add(call_id)
        for call_id in list(check.dialing):
            if rng.random() < 0.5:
                del check.dialing[call_id]
                if rng.random() < 0.5:
                    send(CustomerAnswered(call_id, at(t)), t)
                    waiting.discard(call_id)
                    connected.add(call_id)
                else:
                    send(CustomerFailed(call_id, "no answer", at(t)), t)
        for call_id in list(connected):
            if rng.random() < 0.01:
                connected.discard(call_id)
                send(rng.choice((ConversationEnded(call_id, at(t)), CallGone(call_id))), t)
        for call_id in list(waiting):
            if call_id in check.left:
                waiting.discard(call_id)
            elif rng.random() < 0.003:
                waiting.discard(call_id)
                send(CallGone(call_id), t)
        for _ in range(2):
            with contextlib.suppress(TransitionNotAllowed):
                send(AgentRequest(rng.choice(ids), rng.choice(("available", "paused", "logged_out"))), t)
        deadline = d.next_deadline()
        if deadline is not None and deadline <= at(t):
            send(Tick(), t)
            after = d.next_deadline()
            assert after is None or after > at(t), "a Tick must move every deadline on"
        busy = [s for s in d.agents() if s.state in (AgentState.RESERVED, AgentState.ON_CALL)]
        assert len({s.current_call for s in busy if s.state == AgentState.ON_CALL}) == sum(
            s.state == AgentState.ON_CALL for s in busy
        )
        assert {s.id for s in busy if s.state == AgentState.RESERVED} == set(check.offer_of_agent)
    assert n_calls == 2000
    assert len(check.connected) > 500  # the scenario really routed calls
    for what in ("no_answer", "lost", "failed", "cancelled", "timeout", "CallbackAttempt", "QueueStatus"):
        assert check.seen[what] > 0, what
    # Drain: every call leaves; then no offer is live and nobody is reserved or on a call.
    for call_id in [c for c in check.queue_of if c not in check.left]:
        send(CallGone(call_id), t + 1)
    send(Tick(), t + 1000)
    assert check.live == {}
    states = {s.state for s in d.agents()}
    assert AgentState.RESERVED not in states and AgentState.ON_CALL not in states
    assert d.waiting() == []
