from __future__ import annotations

from bench.profile import area_shares, area_table, frame_area, parse, parse_line, root_samples, top_frames

CONTROLLER = 'process 10:"python -m ivr.cli serve"'
WORKER = 'process 11:"python -m ivr.tts.worker piper"'
LINES = [
    f"{CONTROLLER};run (asyncio/runners.py:118);_decode (ivr/ari/stream.py:210);"
    "loads (json/__init__.py:346) 30",
    f"{CONTROLLER};run (asyncio/runners.py:118);node_entered (ivr/calls/call_log.py:20);"
    "info (logging/__init__.py:1489);emit (logging/__init__.py:1100) 10",
    f"{CONTROLLER};run (asyncio/runners.py:118);_run_once (asyncio/base_events.py:1900) 20",
    f"{CONTROLLER};run (asyncio/runners.py:118);step (ivr/flows/engine.py:61);deepcopy (copy.py:128) 15",
    f"{CONTROLLER};_worker (aiosqlite/core.py:59) 25",
    f"{CONTROLLER};{WORKER};speak (ivr/tts/worker.py:80) 100",
]


def test_a_frame_belongs_to_the_first_area_whose_marker_is_in_its_file() -> None:
    assert frame_area("receive (aiohttp/_websocket/reader.py:10)") == "websocket frames"
    assert frame_area("request (aiohttp/client.py:500)") == "aiohttp client requests"
    assert frame_area("handle (aiohttp/web_protocol.py:12)") == "web API (aiohttp server)"
    assert frame_area("deepcopy (copy.py:128)") is None


def test_a_child_sample_names_its_own_process_and_the_profiled_root() -> None:
    sample = parse_line(LINES[-1])
    assert sample is not None
    assert sample.process.startswith("11:") and sample.root.startswith("10:")
    assert sample.frames == ["speak (ivr/tts/worker.py:80)"] and sample.count == 100
    assert parse_line("not a sample line") is None


def test_samples_go_to_the_innermost_known_area_of_the_profiled_process_only() -> None:
    shares, total = area_shares(root_samples(parse(LINES)))
    assert total == 100  # the TTS worker's 100 samples are its own, not the controller's
    by_area = {s.area: s.samples for s in shares}
    assert by_area == {
        "JSON encode/decode": 30,
        "logging": 10,
        "asyncio scheduling": 20,
        "flow engine": 15,  # copy.py is no area: charged to the engine that called it
        "SQLAlchemy / store writes": 25,
    }
    assert shares[0].area == "JSON encode/decode" and shares[0].percent == 30.0


def test_top_frames_add_up_lines_of_one_function_and_count_a_frame_once_per_sample() -> None:
    lines = [
        f"{CONTROLLER};a (x.py:1);b (y.py:2) 3",
        f"{CONTROLLER};a (x.py:1);b (y.py:9) 2",
        f"{CONTROLLER};a (x.py:1);a (x.py:5) 4",
    ]
    own, cumulative = top_frames(parse(lines))
    assert own[0] == ("b (y.py)", 5)
    assert dict(cumulative)["a (x.py)"] == 9


def test_the_table_shows_processes_then_the_controllers_areas() -> None:
    table = area_table(LINES)
    assert "200 samples; by process:" in table
    assert "50.0 %  11:" in table
    assert "the profiled process (100 samples)" in table
    assert area_table([]) == "no samples"
