"""The prompt cache shared by load runs: only missing files are copied, atomically, never overwritten."""

from __future__ import annotations

import fcntl
from pathlib import Path

import pytest

from ivr.testing.prompt_cache import copy_new, default_cache, exclusive


def test_copy_new_adds_only_the_missing_prompt_files(tmp_path: Path) -> None:
    cache, sounds = tmp_path / "cache", tmp_path / "sounds"
    cache.mkdir()
    (cache / "aa.wav").write_bytes(b"cached aa")
    (cache / "bb.wav").write_bytes(b"cached bb")
    (cache / "notes.txt").write_text("not a prompt")
    sounds.mkdir()
    (sounds / "bb.wav").write_bytes(b"rendered bb")
    assert copy_new(cache, sounds) == 1
    assert (sounds / "aa.wav").read_bytes() == b"cached aa"
    assert (sounds / "bb.wav").read_bytes() == b"rendered bb"  # never overwritten
    assert sorted(p.name for p in sounds.iterdir()) == ["aa.wav", "bb.wav"]  # no .part left behind
    assert copy_new(sounds, cache) == 0  # nothing new the other way
    (sounds / "cc.wav").write_bytes(b"new cc")
    assert copy_new(sounds, cache) == 1 and (cache / "cc.wav").read_bytes() == b"new cc"


def test_a_missing_source_copies_nothing_and_creates_nothing(tmp_path: Path) -> None:
    assert copy_new(tmp_path / "absent", tmp_path / "target") == 0
    assert not (tmp_path / "target").exists()


def test_the_default_cache_follows_xdg_cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache() == tmp_path / "ivr" / "prompts"


def test_exclusive_holds_the_cache_lock_until_left(tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    def lock_is_free() -> bool:
        with open(cache / ".lock", "w") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(other, fcntl.LOCK_UN)
            return True

    with exclusive(cache) as held:
        assert held == cache and not lock_is_free()
    assert lock_is_free()
