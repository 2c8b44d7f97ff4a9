"""Parsing ``core show taskprocessors`` and finding the deepest stasis/ARI queue (pure)."""

from __future__ import annotations

from pathlib import Path

from bench.taskprocessors import deepest, header_labels, parse, rx_argv
from ivr.pbx.config import PbxConfig
from ivr.pbx.instance import Pbx

OUTPUT = """
Processor  Processed  In Queue  Max Depth  Low water High water
app_stasis/ivr-bench-00000001  1200  3  41  450  500
stasis/m:cache_pattern:1/channel:all-00000004  800  0  120  450  500
subm:ast_system-00000002  900  0  700  450  500
pjsip/distributor-00000019  10  0  2  450  500
62 taskprocessors
"""


def test_parse_reads_every_row_and_skips_the_rest() -> None:
    rows = parse(OUTPUT)
    assert [r.name for r in rows][:2] == [
        "app_stasis/ivr-bench-00000001",
        "stasis/m:cache_pattern:1/channel:all-00000004",
    ]
    assert len(rows) == 4
    assert rows[0].in_queue == 3 and rows[0].high_water == 500


ASTERISK_22 = Path(__file__).with_name("taskprocessors_asterisk22.txt")
"""Real ``core show taskprocessors`` of Asterisk 22.10 (a private instance), with its two time columns."""


def test_parse_reads_asterisk_22_by_its_header_columns() -> None:
    text = ASTERISK_22.read_text()
    rows = parse(text)
    footer = next(line for line in text.splitlines() if line.endswith(" taskprocessors"))
    assert len(rows) == int(footer.split()[0])
    [cdr] = [r for r in rows if r.name.startswith("stasis/m:cdr:aggregator")]
    assert (cdr.processed, cdr.in_queue, cdr.max_depth, cdr.low_water, cdr.high_water) == (
        2,
        0,
        1,
        4500,
        5000,
    )
    assert all(r.low_water < r.high_water for r in rows)
    assert all(r.max_depth <= r.processed for r in rows)


def test_the_header_gives_the_columns_in_order() -> None:
    header = ASTERISK_22.read_text().splitlines()[1]
    assert header_labels(header) == [
        "Processed",
        "In Queue",
        "Max Depth",
        "Low water",
        "High water",
        "Low time(us)",
        "High time(us)",
    ]
    assert header_labels("stasis/m:x-01  1  0  1  450  500") is None


def test_rows_without_a_header_are_not_guessed() -> None:
    rows_only = "\n".join(OUTPUT.strip().splitlines()[1:])
    assert parse(rows_only) == []


def test_deepest_looks_at_stasis_and_ari_queues_only() -> None:
    first, later = parse(OUTPUT), parse(OUTPUT.replace("1200  3  41", "1200  17  41"))
    depth = deepest([first, later])
    assert depth is not None
    assert depth.name.startswith("stasis/m:cache_pattern")  # subm:ast_system (700) is not an ARI queue
    assert (depth.max_depth, depth.high_water, depth.max_in_queue) == (120, 500, 17)
    assert depth.fullest_share == 120 / 500
    assert deepest([parse("nothing here")]) is None


def test_rx_argv_goes_through_the_root_for_a_chrooted_instance(tmp_path: Path) -> None:
    config = PbxConfig(name="x", sip_port=5060, ari_port=8088, ari_user="u", ari_password="p", app="a")
    root = tmp_path / "root"
    pbx = Pbx(config, mode="root", instance_dir=root / "inst", chroot=root)
    argv = rx_argv(pbx, "core show taskprocessors")
    assert argv[:2] == ["chroot", str(root)]
    assert argv[-4:] == ["-C", "/inst/etc/asterisk.conf", "-rx", "core show taskprocessors"]
