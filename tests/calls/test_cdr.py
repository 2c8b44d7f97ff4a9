from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from ivr.calls.cdr import end_times, fallback_call, fallback_call_id, parse_cdr


def line(**overrides: str) -> bytes:
    values = {
        "accountcode": "",
        "src": "0312345678",
        "dst": "s",
        "dcontext": "controller-away",
        "clid": '"Yamada" <0312345678>',
        "channel": "PJSIP/trunk-00000001",
        "dstchannel": "",
        "lastapp": "Hangup",
        "lastdata": "",
        "start": "2025-03-01 09:00:00",
        "answer": "2025-03-01 09:00:01",
        "end": "2025-03-01 09:00:05",
        "duration": "5",
        "billsec": "4",
        "disposition": "ANSWERED",
        "amaflags": "DOCUMENTATION",
        "uniqueid": "main-1740819600.1",
        "userfield": "",
    }
    values.update(overrides)
    quoted = [
        v if k in ("duration", "billsec") else '"' + v.replace('"', '""') + '"' for k, v in values.items()
    ]
    return (",".join(quoted) + "\n").encode()


def test_a_fallback_row_becomes_a_failed_record_with_the_cdr_times() -> None:
    chunk = parse_cdr(line())
    assert chunk.problems == [] and chunk.consumed == len(line())
    call = fallback_call(chunk.rows[0])
    assert call is not None
    assert (call.caller_number, call.caller_name, call.channel_id) == (
        "0312345678",
        "Yamada",
        "main-1740819600.1",
    )
    assert call.started_at == datetime(2025, 3, 1, 9, 0, 0, tzinfo=UTC)
    assert call.answered_at == datetime(2025, 3, 1, 9, 0, 1, tzinfo=UTC)
    assert call.ended_at == datetime(2025, 3, 1, 9, 0, 5, tzinfo=UTC)
    assert (call.outcome, call.cause) == ("failed", "controller away: dialplan fallback")
    assert call.call_id == fallback_call_id("main-1740819600.1") != fallback_call_id("main-1740819600.2")


def test_rows_of_other_contexts_are_not_fallback_calls_but_give_end_times() -> None:
    chunk = parse_cdr(
        line(dcontext="from-trunk", uniqueid="a-1.1") + line(uniqueid="a-1.1", end="2025-03-01 09:01:00")
    )
    assert fallback_call(chunk.rows[0]) is None
    assert end_times(chunk.rows) == {"a-1.1": datetime(2025, 3, 1, 9, 1, tzinfo=UTC)}


def test_an_unanswered_call_has_no_answer_time() -> None:
    call = fallback_call(parse_cdr(line(answer="", disposition="NO ANSWER")).rows[0])
    assert call is not None and call.answered_at is None


def test_a_line_still_being_written_is_left_for_next_time() -> None:
    whole = line()
    chunk = parse_cdr(whole + whole[:30])
    assert len(chunk.rows) == 1 and chunk.consumed == len(whole)
    assert parse_cdr(whole[:30]).consumed == 0


def test_hostile_rows_are_skipped_and_reported_by_line() -> None:
    data = (
        b'"only","three","columns"\n'
        + line(start="yesterday")
        + line(uniqueid="")
        + line(clid='"\xff\xfe bad" <1>'.encode("latin-1").decode("latin-1"))
        + b"\xff\xfe\x00garbage\n"
        + line(uniqueid="ok-1.2")
    )
    chunk = parse_cdr(data, first_line=10)
    assert [r.uniqueid for r in chunk.rows] == ["main-1740819600.1", "ok-1.2"]
    assert [p.split(":")[0] for p in chunk.problems] == ["line 10", "line 11", "line 12", "line 14"]
    assert "3 columns" in chunk.problems[0]


def test_a_caller_id_with_quotes_and_control_characters_is_cleaned() -> None:
    call = fallback_call(parse_cdr(line(src="", clid='"Say ""hi""\x07" <0399>')).rows[0])
    assert call is not None and call.caller_number == "0399" and "\x07" not in call.caller_name


@given(st.binary(max_size=600))
def test_any_bytes_parse_without_raising(data: bytes) -> None:
    chunk = parse_cdr(data)
    assert 0 <= chunk.consumed <= len(data)
    assert all(len(r.uniqueid) > 0 for r in chunk.rows)


def test_the_dialed_number_comes_from_the_userfield_the_fallback_path_sets() -> None:
    rows = parse_cdr(line(userfield="7705") + line(uniqueid="m-1.2") + line(uniqueid="m-1.3", dst="100")).rows
    dialed = [call.dialed for row in rows if (call := fallback_call(row)) is not None]
    assert dialed == ["7705", "", "100"]  # "s" is the fallback's own extension, not the dialed one


def test_a_row_without_the_userfield_column_still_parses() -> None:
    full = line(userfield="7705").decode().rstrip("\n")
    short = full[: full.rfind(",")] + "\n"  # a cdr.conf without loguserfield
    [row] = parse_cdr(short.encode()).rows
    call = fallback_call(row)
    assert call is not None and call.dialed == ""
