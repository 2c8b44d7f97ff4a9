"""The scale-out section of docs/benchmarks.md (bench.cluster_report, pure)."""

from __future__ import annotations

from bench.acd_report import replace_section
from bench.cluster_checks import WritesPerCall
from bench.cluster_report import SECTION, ClusterInfo, RunFigures, markdown_section, text_report

INFO = ClusterInfo("python -m bench.cluster", "2026-12-01 10:00 UTC", "2 cores", "1.00 1.00 1.00",
                   "2.00 1.50 1.00", 0.5, 60.0, 6, (1.0, 4.0), 3.0, "15 agent, 15 status")  # fmt: skip


def _run(label: str, **kw: object) -> RunFigures:
    fig = RunFigures(label, ["n1"], placed=30, sipp_ok=30, store_per_node={"n1": 30}, cdr_per_node={"n1": 30})
    for key, value in kw.items():
        setattr(fig, key, value)
    return fig


def test_a_clean_run_says_so_with_its_figures() -> None:
    two = _run("two nodes", store_per_node={"n1": 16, "n2": 14}, writes=WritesPerCall(12.34, 20.0, 1.5, 0.5))
    section = markdown_section(INFO, [_run("one node"), two])
    assert section.startswith(SECTION)
    assert "every run clean" in section
    assert "n1 16, n2 14" in section and "12.3" in section


def test_an_overlap_or_a_failed_call_fails_the_verdict() -> None:
    overlap = _run("two nodes", overlaps=["agent 3301: offer 2 rang before offer 1 ended"])
    assert not overlap.ok
    assert "FAILED: two nodes: agent 3301" in markdown_section(INFO, [_run("one node"), overlap])
    failed = _run("one node", sipp_ok=29, sipp_failed=1)
    assert not failed.ok and "FAILED: one node" in markdown_section(INFO, [failed])
    assert "agent 3301" in text_report([overlap])


def test_the_section_replaces_its_old_self_in_the_document() -> None:
    document = f"# Benchmarks\n\n## Other\n\ntext\n\n{SECTION}\n\nold figures\n"
    updated = replace_section(document, markdown_section(INFO, [_run("one node")]), SECTION)
    assert "old figures" not in updated and "## Other\n\ntext" in updated
    assert updated.count(SECTION) == 1


def test_cpu_per_call_is_mean_cores_times_wall_time_over_calls() -> None:
    run = _run("one node", wall_s=100.0, cpu_cores={"controller": 0.3, "postgres": 0.015})
    assert run.cpu_ms_per_call() == {"controller": 1000.0, "postgres": 50.0}
    assert _run("none", sipp_ok=0, cpu_cores={"x": 1.0}).cpu_ms_per_call() == {}


def test_rows_by_table_are_listed_per_call_largest_first() -> None:
    run = _run("one node", rows_by_table={"offers": 30, "calls": 120, "users": 0})
    section = markdown_section(INFO, [run])
    assert "- one node: `calls` 4.0, `offers` 1.0" in section and "`users`" not in section
