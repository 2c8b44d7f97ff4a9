from __future__ import annotations

from bench.capacity import not_read_back_reason, read_back


def test_a_call_that_read_back_other_digits_says_which() -> None:
    call = {"path": ["digits", "readback", "bye"], "inputs": [{"value": "42771"}], "outcome": "completed"}
    assert not read_back(call)
    assert not_read_back_reason(call) == "read back 42771"


def test_a_call_that_never_reached_the_read_back_says_where_it_ended_and_why() -> None:
    call = {"path": ["digits", "bye"], "inputs": [], "outcome": "failed", "hangup_cause": "caller hung up"}
    assert not_read_back_reason(call) == "ended at bye (failed, caller hung up)"
    assert not_read_back_reason({"path": [], "outcome": None}) == "ended at no node (None, None)"


def test_the_keyed_digits_at_the_read_back_node_count_as_read_back() -> None:
    assert read_back({"path": ["digits", "readback", "bye"], "inputs": [{"value": "4271"}]})


def test_a_capacity_run_keeps_the_profile_summary_and_what_follows_it_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bench.capacity import keep_other_sections

    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# B\n\n## Capacity: old\nold\n\n## Capacity: where the controller's time goes\nprofile\n\n"
        "## ACD against app_queue\nacd\n"
    )
    new = keep_other_sections(doc, "# B\n\n## Capacity: new\nnew\n")
    assert "old" not in new.replace("## Capacity: new", "")
    assert new.count("## ACD against app_queue") == 1 and "profile\n" in new
    assert new.index("new") < new.index("profile") < new.index("acd")
