from __future__ import annotations

from datetime import UTC, datetime, timedelta

from acd.conversation_marker import Talked, mark, read, wait_key

AT = datetime(2026, 12, 1, 1, 2, 3, 456789, tzinfo=UTC)


def test_a_mark_reads_back_as_the_call_the_operator_and_the_wait() -> None:
    assert read(mark("call-1", "2101", AT)) == Talked("call-1", "2101", wait_key(AT))


def test_the_wait_is_the_same_for_the_stores_naive_utc_time_and_to_the_millisecond() -> None:
    assert wait_key(AT.replace(tzinfo=None)) == wait_key(AT)
    assert wait_key(AT + timedelta(microseconds=200)) == wait_key(AT)
    assert wait_key(AT + timedelta(milliseconds=2)) != wait_key(AT)


def test_anything_else_in_the_variable_is_no_mark() -> None:
    for value in (None, "", "call-1 2101", "call-1 2101 soon", "a b c d", "call-1 2101 12 extra"):
        assert read(value) is None
