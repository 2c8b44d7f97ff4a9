"""Reconciliation after a load run: SIPp = CDR caller legs = store, outcomes by kind (pure parts only)."""

from __future__ import annotations

from bench.load_plan import KINDS, caller_number
from bench.reconcile import (
    CdrLeg,
    SippCount,
    StoreCall,
    caller_legs,
    cdr_rows,
    reconcile,
    sipp_count,
)

STATUS, AGENT, ABANDON = KINDS[0], KINDS[1], KINDS[2]
N1, N2, N3 = caller_number(STATUS, 0), caller_number(AGENT, 0, 3.5), caller_number(ABANDON, 1)
KINDS3 = (STATUS, AGENT, ABANDON)


def _cdr(
    src: str, channel: str, uid: str, *, context: str = "from-trunk", disposition: str = "ANSWERED"
) -> str:
    return (
        f'"","{src}","0120","{context}","""load"" <{src}>","{channel}","","Stasis","ivr-bench",'
        f'"2026-12-01 10:00:00","2026-12-01 10:00:00","2026-12-01 10:00:20",20,20,"{disposition}",'
        f'"DOCUMENTATION","{uid}",""'
    )


def test_sipp_count_reads_the_last_cumulative_row() -> None:
    text = (
        "StartTime;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);\n"
        "t0;3;1;1;0;0;\n"
        "t1;0;4;12;1;2;\n"
    )
    assert sipp_count(text) == SippCount(12, 2)
    assert sipp_count("") == SippCount(0, 0)


def test_caller_legs_keep_trunk_callers_merge_their_rows_and_drop_operator_legs() -> None:
    text = "\n".join(
        [
            _cdr(N1, "PJSIP/trunk-00000001", "1700.1"),
            _cdr(N2, "PJSIP/trunk-00000002", "1700.2"),
            _cdr(N2, "PJSIP/trunk-00000002", "1700.2"),  # a second row: the bridge with the operator
            _cdr(N2, "PJSIP/3301-00000003", "1700.3", context="agents"),  # the operator's leg
            _cdr(N1, "Snoop/1700.1-00000001", "1700.4", context=""),  # media helper
            "garbage,line",
        ]
    )
    legs = caller_legs(cdr_rows(text))
    assert set(legs) == {"1700.1", "1700.2"}
    assert legs["1700.2"] == CdrLeg("1700.2", N2, ("ANSWERED", "ANSWERED"))


def _store(uid: str, number: str, outcome: str | None, *, ended: bool = True) -> StoreCall:
    return StoreCall(f"call-{uid}", uid, number, outcome, ended)


def _legs(*pairs: tuple[str, str]) -> dict[str, CdrLeg]:
    return {uid: CdrLeg(uid, src, ("ANSWERED",)) for uid, src in pairs}


PLACED = {"status": 1, "agent": 1, "abandon": 1}
SIPP_OK = {"status": SippCount(1, 0), "agent": SippCount(1, 0), "abandon": SippCount(1, 0)}
LEGS = _legs(("u1", N1), ("u2", N2), ("u3", N3))


def test_a_clean_run_reconciles() -> None:
    store = [_store("u1", N1, "completed"), _store("u2", N2, "completed"), _store("u3", N3, "abandoned")]
    rec = reconcile(PLACED, SIPP_OK, LEGS, store, KINDS3)
    assert rec.ok, rec.problems
    assert [(f.kind, f.sipp_ok, f.cdr, f.store, f.outcome_ok) for f in rec.by_kind] == [
        ("status", 1, 1, 1, 1),
        ("agent", 1, 1, 1, 1),
        ("abandon", 1, 1, 1, 1),
    ]


def test_calls_of_other_numbers_are_ignored() -> None:
    store = [
        _store("u1", N1, "completed"),
        _store("u2", N2, "completed"),
        _store("u3", N3, "abandoned"),
        _store("x", "0312345678", "failed"),
    ]
    legs = {**LEGS, **_legs(("x", "0312345678"))}
    assert reconcile(PLACED, SIPP_OK, legs, store, KINDS3).ok


def test_a_call_missing_from_the_store_fails_and_names_the_channel() -> None:
    store = [_store("u1", N1, "completed"), _store("u3", N3, "abandoned")]
    rec = reconcile(PLACED, SIPP_OK, LEGS, store, KINDS3)
    assert not rec.ok
    assert any("u2" in p and "no call in the store" in p for p in rec.problems)
    assert any(
        p.startswith("agent: SIPp successful 1, CDR caller legs 1, store calls 0") for p in rec.problems
    )


def test_a_wrong_outcome_or_an_open_record_fails() -> None:
    store = [
        _store("u1", N1, "completed"),
        _store("u2", N2, "abandoned"),
        _store("u3", N3, "abandoned", ended=False),
    ]
    rec = reconcile(PLACED, SIPP_OK, LEGS, store, KINDS3)
    assert any("call-u2" in p and "expected completed" in p for p in rec.problems)
    assert any("call-u3" in p and "still open" in p for p in rec.problems)
    assert [f.outcome_ok for f in rec.by_kind] == [1, 0, 1]


def test_a_failed_sipp_call_or_a_store_call_without_cdr_fails() -> None:
    sipp = {**SIPP_OK, "status": SippCount(0, 1)}
    store = [_store("u1", N1, "completed"), _store("u2", N2, "completed"), _store("u3", N3, "abandoned")]
    legs = _legs(("u2", N2), ("u3", N3))
    rec = reconcile(PLACED, sipp, legs, store, KINDS3)
    assert any(p.startswith("status: SIPp placed 1, successful 0, failed 1") for p in rec.problems)
    assert any("call-u1" in p and "no CDR caller leg" in p for p in rec.problems)


def test_an_unanswered_caller_leg_is_a_problem() -> None:
    legs = {"u1": CdrLeg("u1", N1, ("NO ANSWER",))}
    rec = reconcile(
        {"status": 1}, {"status": SippCount(1, 0)}, legs, [_store("u1", N1, "completed")], (STATUS,)
    )
    assert rec.problems == [f"CDR u1 ({N1}): disposition NO ANSWER"]
