"""The ACD benchmark's table, ratios and its section of docs/benchmarks.md."""

from __future__ import annotations

from bench.acd_report import (
    SECTION,
    AcdRunInfo,
    Phase,
    markdown_section,
    markdown_table,
    metrics,
    ratio,
    replace_section,
    summary_lines,
)
from bench.acd_trace import Figures


def _phase(system: str, dispatch: tuple[float, ...], asa: tuple[float, ...]) -> Phase:
    figures = Figures(
        callers=len(asa),
        answered=len(asa),
        offers=len(asa),
        unanswered_offers=0,
        unmatched_offers=0,
        dispatch_s=dispatch,
        dispatch_idle_s=dispatch[:1],
        dispatch_queued_s=dispatch[1:],
        gap_queued_s=tuple(2.0 + d for d in dispatch[1:]),
        inversions=0,
        asa_s=asa,
        ring_s=(2.0,) * len(asa),
    )
    return Phase(system, len(asa), len(asa), 0, 60.0, {"asterisk": 2.0, "controller": 1.0}, figures)


OURS = _phase("acd", (0.01, 0.02, 0.03, 0.04), (2.0, 4.0, 8.0, 12.0))
THEIRS = _phase("app_queue", (0.02, 0.5, 0.6, 1.0), (3.0, 5.0, 10.0, 14.0))


def test_ratio_is_ours_over_theirs() -> None:
    assert ratio(1.0, 4.0) == "0.25"
    assert ratio(None, 4.0) == "–"
    assert ratio(1.0, 0.0) == "–"
    assert ratio(0.01, -0.05) == "–"  # a negative figure has no meaningful ratio


def test_metrics_compare_the_two_systems() -> None:
    rows = {m.name: m for m in metrics([OURS, THEIRS], target_s=9.0, wrapup_s=2.0)}
    p50 = rows["dispatch p50, s (all rings)"]
    assert p50.values == {"acd": "0.020", "app_queue": "0.500"}
    assert p50.ratio == "0.04"
    three_rings = rows["answered within three rings (ASA ≤ 9 s)"]
    assert three_rings.values == {"acd": "75.0 %", "app_queue": "50.0 %"}
    assert three_rings.ratio == "1.50"
    assert rows["dispatch p50, s (caller waiting: BYE + 2 s wrap-up → ring)"].values["app_queue"] == "0.600"
    assert rows["operator's pause p50, s"].values == {"acd": "2.030", "app_queue": "2.600"}
    assert rows["controller CPU, s"].ratio == ""  # not comparable: app_queue has no controller work


def test_a_single_system_has_no_ratio() -> None:
    assert all(m.ratio == "" for m in metrics([THEIRS], target_s=9.0, wrapup_s=2.0))


def _info() -> AcdRunInfo:
    return AcdRunInfo(
        command="python -m bench.acd",
        date="2026-12-01 10:00 UTC",
        nproc=2,
        cpu_model="test CPU",
        agents=6,
        answer_delays_s=(1.0, 6.0),
        seed=7,
        talk_s=5.0,
        wrapup_s=2.0,
        ring_timeout_s=15.0,
        ring_cycle_s=3.0,
        target_rings=3,
        calls=4,
        rate=0.7,
        router_output="scenario matches p50 ms p99 ms",
    )


def test_markdown_section_has_command_setup_table_and_router_figures() -> None:
    text = markdown_section(_info(), [OURS, THEIRS])
    assert text.startswith(SECTION + "\n")
    assert "python -m bench.acd" in text and "2026-12-01 10:00 UTC" in text
    assert markdown_table([OURS, THEIRS], 9.0, 2.0) in text
    assert "scenario matches p50 ms p99 ms" in text
    assert "Our ACD then app_queue" in text


def test_the_section_is_appended_once_then_replaced_in_place() -> None:
    doc = "# Benchmarks\n\n## Capacity\n\ncapacity text\n"
    first = replace_section(doc, f"{SECTION}\n\nold figures\n")
    assert first == doc + f"\n{SECTION}\n\nold figures\n"
    middle = first + "\n## Later\n\nlater text\n"
    second = replace_section(middle, f"{SECTION}\n\nnew figures\n")
    assert "old figures" not in second and second.count(SECTION) == 1
    assert "capacity text" in second and second.endswith("## Later\n\nlater text\n")
    assert second.index("new figures") < second.index("## Later")


def test_summary_says_where_ours_is_at_most_theirs() -> None:
    lines = summary_lines([OURS, THEIRS], target_s=9.0)
    assert "ASA p50: ours 4.000 s, app_queue 5.000 s, ratio 0.80 — ours ≤ theirs" in lines
    assert "answered within three rings: ours 75.0 %, app_queue 50.0 % — ours ≥ theirs" in lines
    slower = summary_lines([_phase("acd", (0.5, 0.9), (9.5, 12.0)), THEIRS], target_s=9.0)
    assert any(line.startswith("ASA p50") and line.endswith("ours > theirs") for line in slower)
    assert summary_lines([OURS], target_s=9.0) == []
