"""Hostile flow files (mutated shipped flows, alias bombs, deep nesting, random text or bytes): the loader
answers with located ``FlowError``s or a flow, never an exception."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ivr.flows.loader import SHIPPED_DIR, check_file, check_text, load_paths
from ivr.flows.model import Flow, FlowError
from ivr.flows.yamlpos import MAX_DEPTH, MAX_VALUES
from tests.yaml_mutations import BILLION_LAUGHS, SELF_ALIAS, any_yaml, mutated_text

SOURCES = [p.read_text(encoding="utf-8") for p in sorted(SHIPPED_DIR.glob("*.yaml"))] + [
    p.read_text(encoding="utf-8")
    for p in sorted((Path(__file__).parents[1] / "integration" / "flows").glob("*.yaml"))
]


def assert_clean(text: str, flow: Flow | None, problems: list[FlowError]) -> None:
    errors = [e for e in problems if not e.is_warning]
    assert (flow is None) == bool(errors)
    lines = max(text.count("\n") + 1, 1)
    for e in problems:
        assert isinstance(e, FlowError)
        assert e.file == "fuzz.yaml"
        assert 1 <= e.line <= lines + 1, e
        assert e.column >= 1, e
        assert str(e).startswith(f"fuzz.yaml:{e.line}:{e.column}: ")


@given(any_yaml(SOURCES))
@example(SELF_ALIAS)  # RecursionError before: an alias inside its own anchor
@example("a: &x {b: *x}\n")
@example(BILLION_LAUGHS)  # was expanded in full (minutes, gigabytes)
@example("deep: " + "[" * 1000 + "]" * 1000)  # RecursionError in PyYAML's composer
@example("".join(f"{'  ' * k}k{k}:\n" for k in range(300)))  # RecursionError in the walk
@example("name: !!int xyz\n")  # ValueError from an explicit tag
@example("name: !custom 1\n")  # ConstructorError
@example("name: " + "1" * 5000 + "\n")  # ValueError: int beyond Python's digit limit
def test_any_flow_text_gives_a_flow_or_located_errors(text: str) -> None:
    flow, problems = check_text(text, "fuzz.yaml")
    assert_clean(text, flow, problems)


def test_bombs_and_cycles_are_refused_quickly_with_a_reason() -> None:
    for text, words in [
        (BILLION_LAUGHS, f"over {MAX_VALUES}"),
        (SELF_ALIAS, "alias refers to a mapping or list that contains it"),
        ("deep: " + "[" * 1000 + "]" * 1000, f"at most {MAX_DEPTH} levels"),
        ("".join(f"{'  ' * k}k{k}:\n" for k in range(100)), f"at most {MAX_DEPTH} levels"),
    ]:
        started = time.process_time()  # CPU time: the machine may be busy
        flow, problems = check_text(text, "fuzz.yaml")
        assert flow is None
        assert words in problems[0].message
        assert time.process_time() - started < 5


def test_explicit_tags_that_do_not_construct_are_errors_on_their_line() -> None:
    for text in [
        "name: x\nentry: !!int xyz\n",
        "name: x\nentry: !custom 1\n",
        "name: x\nentry: 1" + "0" * 5000,
    ]:
        flow, problems = check_text(text, "fuzz.yaml")
        assert flow is None
        assert (problems[0].line, problems[0].column) == (2, 8)
        assert problems[0].message.startswith("cannot read this value as")


@given(st.binary(max_size=400))
@example(b"\xff\xfename: x\n")
@example(b"name: \xc3\x28\n")
def test_any_bytes_in_a_flow_file_give_located_errors(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.yaml"
        path.write_bytes(data)
        flow, problems = check_file(path)
    assert (flow is None) == any(not e.is_warning for e in problems)
    assert all(e.line >= 1 and e.column >= 1 for e in problems)


@settings(max_examples=max(settings().max_examples // 3, 10))  # several files per example
@given(st.lists(mutated_text(SOURCES), min_size=1, max_size=3))
def test_a_directory_of_mutated_flows_links_without_exceptions(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate(texts):
            (Path(tmp) / f"f{i}.yaml").write_text(text, encoding="utf-8")
        result = load_paths([Path(tmp)])
    assert all(isinstance(e, FlowError) and e.line >= 1 for e in result.errors + result.warnings)
    assert all(isinstance(f, Flow) for f in result.flows.values())
