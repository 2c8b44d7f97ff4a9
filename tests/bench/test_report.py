from __future__ import annotations

from bench.levels import LevelPlan, LevelResult
from bench.report import (
    COLUMNS,
    CONTROLLER,
    DIALPLAN,
    RunInfo,
    capacity_label,
    markdown_report,
    markdown_table,
    summary_lines,
    text_table,
)


def level(target: str, concurrency: int, *, failed: int = 0, controller_cpu: float = 0.0) -> LevelResult:
    plan = LevelPlan(concurrency=concurrency, calls=2 * concurrency, rate=10.0)
    cpu = {"asterisk": concurrency / 200, "sipp": 0.1}
    if target == CONTROLLER:
        cpu["controller"] = controller_cpu
    return LevelResult(
        target=target,
        plan=plan,
        successful=plan.calls - failed,
        failed=failed,
        verified=plan.calls - failed,
        checked=plan.calls - failed,
        peak_open=concurrency,
        cpu=cpu,
        cpu_s={"asterisk": 10.0, "sipp": 1.0, **({"controller": 5.0} if target == CONTROLLER else {})},
        plateau_calls=float(concurrency),
        p50_ms=0.25 if target == CONTROLLER else None,
        p99_ms=1.5 if target == CONTROLLER else None,
    )


RUNS = {
    DIALPLAN: [level(DIALPLAN, 100), level(DIALPLAN, 200)],
    CONTROLLER: [level(CONTROLLER, 100, controller_cpu=0.5), level(CONTROLLER, 200, failed=3)],
}


def test_text_table_has_a_header_a_rule_and_one_row_per_level() -> None:
    lines = text_table(RUNS[CONTROLLER]).splitlines()
    assert len(lines) == 4
    assert "Asterisk cores" in lines[0] and set(lines[1]) <= {"-", " "}
    assert lines[2].split()[:6] == ["controller", "100", "200", "200", "0", "200/200"]
    assert lines[3].split()[4] == "3"


def test_markdown_table_rows_have_every_column() -> None:
    lines = markdown_table(RUNS[DIALPLAN]).splitlines()
    assert lines[0].count("|") == len(COLUMNS) + 1
    assert all(line.count("|") == len(COLUMNS) + 1 for line in lines)
    assert (
        "| dialplan | 100 | 200 | 200 | 0 | 200/200 | 100 | 0.50 | – | 0.10 | 0.500 | 50.0 | – | – |" in lines
    )


def test_capacity_labels() -> None:
    assert capacity_label(RUNS[DIALPLAN]).startswith("≥ 200")
    assert capacity_label(RUNS[CONTROLLER]) == "100"
    assert capacity_label([]) == "not run"
    assert capacity_label([level(DIALPLAN, 10, failed=1)]).startswith("none")


def test_summary_compares_at_the_highest_level_both_passed() -> None:
    text = "\n".join(summary_lines(RUNS))
    assert "capacity ratio controller/dialplan: ≤ 0.50 (the dialplan IVR reached the cap)" in text
    # at 100 calls: dialplan 0.5 cores, controller 0.5 + 0.5 cores → ratio 2
    assert "CPU per concurrent call at 100 calls" in text and "ratio 2.00" in text
    # CPU per call over the level: 10 s / 200 calls vs (10 + 5) s / 200 calls
    assert "CPU per call at 100 calls: dialplan 50.0 ms" in text and "ratio 1.50" in text
    assert "p50 0.2 ms, p99 1.5 ms" in text


def test_markdown_report_names_the_command_date_and_machine() -> None:
    info = RunInfo(
        command="python -m bench.capacity",
        date="2026-01-01 00:00 UTC",
        nproc=2,
        cpu_model="Test CPU",
        call_s=9.5,
        pcap="silence, DTMF, silence",
    )
    doc = markdown_report(info, RUNS)
    assert "python -m bench.capacity" in doc and "2026-01-01 00:00 UTC" in doc
    assert "2 cores, Test CPU" in doc
    assert "| controller | 200 | 400 | 397 | 3 |" in doc


def test_a_capacity_run_keeps_the_acd_section(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bench.capacity import keep_other_sections

    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Capacity: old\nold figures\n\n## ACD against app_queue\nacd figures\n")
    new = keep_other_sections(doc, "# Benchmarks\n\n## Capacity: new\nnew figures\n")
    assert "new figures" in new and "old figures" not in new
    assert new.endswith("## ACD against app_queue\nacd figures\n")
    assert keep_other_sections(tmp_path / "missing.md", "# B\n") == "# B\n"
