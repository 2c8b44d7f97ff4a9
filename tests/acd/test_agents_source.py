"""The agents/queues files on disk: the data-dir copy of the shipped files, and the checked atomic
rewrite."""

from __future__ import annotations

from pathlib import Path

from acd.agents_source import replace_checked, seeded
from acd.config import DEFAULT_AGENTS_FILE


def test_a_configured_file_is_used_as_it_is(tmp_path: Path) -> None:
    own = tmp_path / "site.yaml"
    assert seeded(own, DEFAULT_AGENTS_FILE, tmp_path / "agents.yaml") == own
    assert not (tmp_path / "agents.yaml").exists() and not own.exists()


def test_without_one_the_shipped_file_is_copied_once(tmp_path: Path) -> None:
    copy = tmp_path / "var" / "agents.yaml"
    assert seeded(None, DEFAULT_AGENTS_FILE, copy) == copy
    assert copy.read_text() == DEFAULT_AGENTS_FILE.read_text()

    copy.write_text("agents: []\n")  # edited since: the next start keeps the edit
    assert seeded(None, DEFAULT_AGENTS_FILE, copy) == copy
    assert copy.read_text() == "agents: []\n"
    assert [p.name for p in copy.parent.iterdir()] == ["agents.yaml"]


def test_a_checked_text_replaces_the_file(tmp_path: Path) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text("old\n")
    path.chmod(0o640)
    seen: list[str] = []

    def check(tmp: Path) -> list[str]:
        seen.append(tmp.read_text())
        return []

    assert replace_checked(path, "new\n", check) == []
    assert seen == ["new\n"]
    assert path.read_text() == "new\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["agents.yaml"]


def test_a_rejected_text_leaves_the_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "agents.yaml"
    path.write_text("old\n")

    errors = replace_checked(path, "new\n", lambda tmp: [f"{tmp}:3:5: agents.0.skills: bad"])

    assert errors == [f"{path}:3:5: agents.0.skills: bad"]
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["agents.yaml"]
