"""Kanji in Japanese prompts: a warning from ``ivr flows check`` (exit 0), never a rejected flow."""

from __future__ import annotations

from pathlib import Path

from ivr.flows.cli import main
from ivr.flows.loader import SHIPPED_DIR, check_file, check_text, load_file, load_paths, load_text
from ivr.flows.registry import FlowRegistry

WARNINGS = Path(__file__).parent / "warnings"
KANJI = WARNINGS / "kanji_prompt.yaml"
MESSAGE = "warning: kanji cannot be spoken by the Japanese TTS voice; write this prompt in kana"

FLOW = """name: plain
languages: [ja, en]
vars:
  hours.ja: {hours}
entry: start
nodes:
  start:
    type: say
    prompt: {prompt}
    next: bye
  bye:
    type: hangup
    prompt: {{ja: "{{hours.ja}}", en: Goodbye.}}
"""


def _flow(prompt: str, hours: str = "くじから ろくじ") -> str:
    return FLOW.format(prompt=prompt, hours=hours)


def test_check_reports_exactly_one_warning_and_exits_zero(capsys) -> None:
    assert main(["flows", "check", str(KANJI)]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"{KANJI}:8:11: nodes.start.prompt.ja: {MESSAGE}"]
    assert captured.out == "ok: 1 flow(s): kanji_prompt (1 warning(s))\n"


def test_warnings_are_printed_with_errors_and_errors_still_fail(tmp_path: Path, capsys) -> None:
    path = tmp_path / "both.yaml"
    path.write_text(KANJI.read_text(encoding="utf-8").replace("next: bye", "next: byee"), encoding="utf-8")
    assert main(["flows", "check", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{path}:8:11: nodes.start.prompt.ja: {MESSAGE}"
    assert err[1].startswith(f"{path}:10:11: nodes.start.next: unknown node 'byee'")
    assert err[2].startswith(f"{path}:11:3: nodes.bye: node 'bye' is never reached")
    assert err[3:] == ["2 error(s) (1 warning(s))"]


def test_warning_is_a_flow_error_with_severity() -> None:
    flow, problems = check_file(KANJI)
    assert flow is not None and flow.name == "kanji_prompt"
    [warning] = problems
    assert (warning.line, warning.column, warning.node_path) == (8, 11, "nodes.start.prompt.ja")
    assert warning.severity == "warning" and warning.is_warning
    assert warning.as_dict()["severity"] == "warning"
    assert warning.as_dict()["text"] == f"{KANJI}:8:11: nodes.start.prompt.ja: {MESSAGE}"


def test_errors_keep_severity_error_and_their_text() -> None:
    _, [error] = load_text(_flow("{ja: こんにちは}"), "x.yaml")
    assert error.severity == "error" and not error.is_warning
    assert error.as_dict()["severity"] == "error"
    assert "warning" not in str(error)


def test_load_accepts_the_flow_and_returns_no_warnings() -> None:
    flow, errors = load_file(KANJI)
    assert flow is not None and errors == []
    result = load_paths([WARNINGS])
    assert list(result.flows) == ["kanji_prompt"] and result.errors == []
    assert [w.node_path for w in result.warnings] == ["nodes.start.prompt.ja"]


def test_registry_does_not_reject_a_flow_for_warnings(tmp_path: Path) -> None:
    (tmp_path / "kanji.yaml").write_text(KANJI.read_text(encoding="utf-8"), encoding="utf-8")
    reg = FlowRegistry([tmp_path], default_flow="kanji_prompt")
    assert reg.errors() == []
    assert reg.get("kanji_prompt").nodes["start"].spec["prompt"]["ja"] == "お電話ありがとうございます。"


def test_kana_digits_and_latin_are_fine() -> None:
    text = _flow("{ja: おでんわ ありがとうございます。 デモショップ 100ばん ABC, en: Hi}")
    flow, problems = check_text(text, "x")
    assert flow is not None and problems == []


def test_english_prompts_are_not_checked() -> None:
    _, problems = check_text(_flow("{ja: こんにちは, en: 日本語は1を}"), "x")
    assert problems == []


def test_one_text_for_all_languages_counts_as_japanese() -> None:
    _, problems = check_text(_flow("お電話"), "x")
    assert [(p.node_path, p.line, p.column) for p in problems] == [("nodes.start.prompt", 9, 13)]
    en_only = _flow("お電話").replace("languages: [ja, en]", "languages: [en]")
    en_only = en_only.replace('{ja: "{hours.ja}", en: Goodbye.}', "Goodbye.")
    flow, problems = check_text(en_only, "x")
    assert flow is not None and problems == []


def test_kanji_in_a_var_a_japanese_prompt_reads_is_warned_at_the_var() -> None:
    flow, problems = check_text(_flow("{ja: こんにちは, en: Hi}", hours="9時から"), "x")
    assert flow is not None
    [warning] = problems
    assert (warning.node_path, warning.line, warning.column) == ("vars.hours.ja", 4, 13)
    assert "write this text in kana" in warning.message and warning.is_warning


def test_shipped_flows_have_no_warnings_and_no_errors(capsys) -> None:
    result = load_paths([SHIPPED_DIR])
    assert result.errors == [] and result.warnings == []
    assert main(["flows", "check", str(SHIPPED_DIR)]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "warning" not in captured.out
