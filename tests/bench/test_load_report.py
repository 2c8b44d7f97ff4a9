"""The load section's text and Markdown carry the run's figures and its reconciliation (pure)."""

from __future__ import annotations

from bench.acd_report import replace_section
from bench.load_plan import plan_mix
from bench.load_report import SECTION, LoadFigures, markdown_section, text_report
from bench.reconcile import KindFigures, Reconciliation


def _figures() -> LoadFigures:
    return LoadFigures(
        command="python -m bench.load",
        date="2026-12-01 12:00 UTC",
        machine="2 cores, test CPU",
        duration_s=30,
        rate=1.0,
        agents=6,
        peak_open=17,
        mean_open=9.5,
        p50_ms=0.4,
        p99_ms=12.5,
    )


def test_markdown_section_has_one_row_per_kind_and_replaces_its_old_self() -> None:
    plans = plan_mix(1.0, 30, seed=1)
    rec = Reconciliation(
        [KindFigures(p.kind.name, p.calls, p.calls, 0, p.calls, p.calls, p.calls) for p in plans]
    )
    section = markdown_section(plans, _figures(), rec)
    assert section.startswith(SECTION)
    for plan in plans:
        assert f"| {plan.kind.name} | {plan.kind.outcome} | {plan.calls} | {plan.calls} | 0 |" in section
    assert "peak 17, mean 9.5" in section and "p50 0.4 ms, p99 12.5 ms" in section
    document = replace_section(f"# Benchmarks\n\n{SECTION}\n\nold figures\n\n## Next\n", section, SECTION)
    assert "old figures" not in document and document.count(SECTION) == 1 and "## Next" in document


def test_text_report_lists_the_problems_of_a_failed_reconciliation() -> None:
    plans = plan_mix(1.0, 30, seed=1)
    rec = Reconciliation(
        [KindFigures("status", 1, 1, 0, 1, 0, 0)], ["CDR u1 (910000000): no call in the store"]
    )
    text = text_report(plans, _figures(), rec)
    assert "reconciliation: FAILED" in text
    assert "CDR u1 (910000000): no call in the store" in text
