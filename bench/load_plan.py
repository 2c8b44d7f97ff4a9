"""The caller mix of ``python -m bench.load`` as plain data: who calls, what they press or say, and what
the store must say about them afterwards.

Every caller walks the default shop flow (``ivr/flows/defaults/shop.yaml``, business hours forced open).
A caller's number tells its kind and, for the agent kind, how long the operator's phone rings:
``<prefix 2 digits><answer delay in tenths, 2 digits><index, 5 digits>`` — the operator phone
(``bench/scenarios/acd_agent.xml``) reads the delay from the INVITE's From, like ``bench.acd``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

WAITS_BYE = "waits"  # the caller stays until the IVR hangs up (bench/scenarios/acd_caller.xml)
HANGS_UP = "hangs_up"  # the caller hangs up on its own (bench/scenarios/load_abandon.xml)

Step = str | float
"""A key group (``"4271#"``), a pause in seconds, or ``SAY`` + words (``"say:operator"``)."""
SAY = "say:"


@dataclass(frozen=True)
class Kind:
    """One kind of caller: its share of the calls, its keys (or speech), and the outcome it must get."""

    name: str
    prefix: str
    share: float
    steps: tuple[Step, ...]
    outcome: str
    scenario: str = WAITS_BYE
    hangup_s: float = 0.0
    with_agent: bool = False
    trailing_silence_s: float = 60.0

    @property
    def spoken(self) -> tuple[str, ...]:
        return tuple(s[len(SAY) :] for s in self.steps if isinstance(s, str) and s.startswith(SAY))


KINDS: tuple[Kind, ...] = (
    # English (2), orders (1), order status (2), number, confirm yes (1), looked up, then finish (9).
    Kind("status", "91", 0.35, ("2", "12", "4271#", 1.0, "1", 1.0, "9"), "completed"),
    # English, orders, new order: queue "orders"; an operator answers after 1-8 s, talks, hangs up;
    # the caller stays for the survey and says nothing (it times out, the IVR says goodbye).
    Kind("agent", "92", 0.25, ("2", "11"), "completed", with_agent=True),
    # English, orders, order status, then the caller gives up while asked for the number.
    Kind("abandon", "93", 0.15, ("2", "12"), "abandoned", scenario=HANGS_UP, hangup_s=12.0),
    # English, operator (0): nobody has that skill, so "all operators busy": call back (1), afternoon (2).
    Kind("callback", "94", 0.15, ("2", "0", 1.0, "1", 2.0, "2"), "callback"),
    # English by key, then "operator" said over the main menu; no operator: goodbye (9).
    Kind("speech", "95", 0.10, ("2", 7.0, SAY + "operator", 3.0, "9"), "completed"),
)

ANSWER_LOW_S, ANSWER_HIGH_S = 1.0, 8.0
NO_AGENT_DELAY_DS = 99  # the delay field of callers who never reach an operator


def kind_of(number: str, kinds: Sequence[Kind] = KINDS) -> Kind | None:
    """The kind a caller number belongs to (by its prefix), or None for a number not of this mix."""
    return next((k for k in kinds if number.startswith(k.prefix) and len(number) == 9), None)


def caller_number(kind: Kind, index: int, delay_s: float | None = None) -> str:
    """``92`` + ``35`` (3.5 s) + ``00007``: unique per call within a run (index < 100000)."""
    if not 0 <= index < 100_000:
        raise ValueError("index must be 0-99999")
    tenths = NO_AGENT_DELAY_DS if delay_s is None else round(delay_s * 10)
    if not 10 <= tenths <= 99:
        raise ValueError(f"answer delay {delay_s} s is outside 1.0-9.9 s")
    return f"{kind.prefix}{tenths:02d}{index:05d}"


@dataclass(frozen=True)
class KindPlan:
    kind: Kind
    calls: int
    rate: float
    numbers: tuple[str, ...]


def split_calls(total: int, kinds: Sequence[Kind]) -> list[int]:
    """``total`` calls shared out by the kinds' shares (largest remainders; every kind with a share gets
    at least one call when ``total`` allows)."""
    if total < 0:
        raise ValueError("total must be >= 0")
    weight = sum(k.share for k in kinds)
    if weight <= 0:
        raise ValueError("the kinds' shares must add up to more than 0")
    exact = [total * k.share / weight for k in kinds]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(kinds)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    for i, kind in enumerate(kinds):  # a kind left at zero borrows from the largest
        if counts[i] == 0 and kind.share > 0 and total >= len(kinds):
            counts[counts.index(max(counts))] -= 1
            counts[i] = 1
    return counts


def plan_mix(
    rate: float,
    duration_s: float,
    *,
    seed: int,
    kinds: Sequence[Kind] = KINDS,
    answer_s: tuple[float, float] = (ANSWER_LOW_S, ANSWER_HIGH_S),
) -> list[KindPlan]:
    """Calls arriving at ``rate`` per second for ``duration_s``, split by kind; each kind arrives at its
    share of the rate. Agent callers get an answer delay uniform over ``answer_s`` (default 1.0-8.0 s,
    0.1 s steps, ``seed``)."""
    if rate <= 0 or duration_s <= 0:
        raise ValueError("rate and duration must be > 0")
    low, high = answer_s
    total = max(len(kinds), round(rate * duration_s))
    rng = random.Random(seed)
    plans = []
    for kind, calls in zip(kinds, split_calls(total, kinds), strict=True):
        if calls == 0:
            continue
        delays = [
            rng.randint(round(low * 10), round(high * 10)) / 10 if kind.with_agent else None
            for _ in range(calls)
        ]
        numbers = tuple(caller_number(kind, i, d) for i, d in enumerate(delays))
        plans.append(KindPlan(kind, calls, calls / duration_s, numbers))
    return plans


def injection_file(numbers: Sequence[str]) -> str:
    """A SIPp ``-inf`` file giving call n the n-th number as ``[field0]``."""
    return "SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers)
