"""QueuedCall bookkeeping: the router's view, deadlines and holds."""

from __future__ import annotations

from acd.events import CallQueued
from acd.queued_calls import (
    OFFERING,
    WAITING,
    announce_from,
    back_to_waiting,
    clear_due_holds,
    deadlines,
    max_wait_reached,
    new_call,
    waiting_view,
)
from tests.acd.builders import at, queue

Q = queue("orders", priority=2, max_wait_s=100.0, announce_every_s=30.0, relax=((20, 1),))


def test_view_adds_queue_priority_and_keeps_only_current_exclusions() -> None:
    call = new_call(CallQueued("c1", "orders", 1, "ja", at(0)))
    call.excluded = {"2101": at(10), "2102": at(5)}
    view = waiting_view(call, {"orders": Q}, {"2103"}, at(5))
    assert view.priority == 3
    assert view.exclude == frozenset({"2101"})
    assert view.busy_with == frozenset({"2103"})


def test_deadlines_of_a_waiting_and_an_offered_call() -> None:
    call = new_call(CallQueued("c1", "orders", 0, "ja", at(0)))
    announce_from(call, Q, at(0))
    call.excluded["2101"] = at(15)
    assert sorted(deadlines(call, Q, at(0))) == [at(15), at(20), at(30), at(100)]
    assert at(20) not in deadlines(call, Q, at(25))  # a relax rule already passed
    call.phase = OFFERING
    assert deadlines(call, Q, at(0)) == [at(100)]


def test_callbacks_are_not_announced_and_never_time_out() -> None:
    call = new_call(CallQueued("cb1", "orders", 0, "ja", at(0), "callback", "0312345678"))
    announce_from(call, Q, at(0))
    assert call.next_announce is None
    assert not max_wait_reached(call, Q, at(1000))
    live = new_call(CallQueued("c1", "orders", 0, "ja", at(0)))
    assert not max_wait_reached(live, Q, at(99)) and max_wait_reached(live, Q, at(100))


def test_holds_end_when_due_and_the_last_offer_ending_puts_the_call_back_in_line() -> None:
    call = new_call(CallQueued("c1", "orders", 0, "ja", at(0)))
    call.excluded = {"2101": at(10), "2102": at(20)}
    call.not_before = at(10)
    clear_due_holds(call, at(10))
    assert call.excluded == {"2102": at(20)} and call.not_before is None
    call.phase, call.offers = OFFERING, {"c1-o1"}
    back_to_waiting(call)
    assert call.phase == OFFERING
    call.offers.clear()
    back_to_waiting(call)
    assert call.phase == WAITING
