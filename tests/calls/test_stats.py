from ivr.calls.stats import LatencyStats


def test_percentiles_and_ring_buffer() -> None:
    stats = LatencyStats(size=100)
    assert stats.percentile(50) is None
    for i in range(1, 201):
        stats.add(i / 1000)
    assert len(stats.samples) == 100  # oldest dropped
    assert stats.percentile(50) == 0.151  # samples 0.101..0.200, nearest rank
    assert stats.percentile(99) == 0.199
    snap = stats.snapshot()
    assert snap["event_to_command_p99_ms"] == 199.0
