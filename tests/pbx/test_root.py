from __future__ import annotations

import json
from pathlib import Path

import pytest

from ivr.pbx import root as rootmod
from ivr.pbx.errors import PbxError, RootBuildError
from ivr.pbx.root import (
    PACKAGES,
    apt_mirror,
    describe_failure,
    ensure_root,
    root_is_current,
    write_stamp,
)


def fake_root(path: Path, packages: tuple[str, ...] = PACKAGES) -> Path:
    (path / "usr" / "sbin").mkdir(parents=True)
    (path / "usr" / "sbin" / "asterisk").write_text("")
    (path / "etc").mkdir()
    write_stamp(path, packages, mirror="http://mirror.example/debian")
    return path


def entries(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


def read(path: Path) -> str:
    return path.read_text()


def test_mirror_from_deb822_sources(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n"
    )
    assert apt_mirror(tmp_path) == "http://mirror.example/debian"


def test_mirror_from_sources_list_then_fallback(tmp_path: Path) -> None:
    assert apt_mirror(tmp_path) == "http://deb.debian.org/debian"
    (tmp_path / "sources.list").write_text(
        "# comment\ndeb [arch=amd64] http://ftp.example/debian bookworm main\n"
    )
    assert apt_mirror(tmp_path) == "http://ftp.example/debian"


def test_stamp_decides_whether_the_root_is_current(tmp_path: Path) -> None:
    root = fake_root(tmp_path / "root")
    assert root_is_current(root)
    assert not root_is_current(root, (*PACKAGES, "asterisk-core-sounds-fr-gsm"))
    stamp = json.loads((root / ".ivr-root.json").read_text())
    assert stamp["packages"] == sorted(PACKAGES) and stamp["suite"] == "sid"
    assert not root_is_current(tmp_path / "absent")


async def test_current_root_is_reused_and_gets_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = fake_root(tmp_path / "root")

    async def no_build(*args: object, **kwargs: object) -> None:
        raise AssertionError("must not rebuild a current root")

    monkeypatch.setattr(rootmod, "_debootstrap", no_build)
    assert await ensure_root(root, progress=lambda _m: None) == root
    assert read(root / "etc" / "hosts") == read(Path("/etc/hosts"))


async def test_failed_build_names_the_package_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "asterisk-root"
    monkeypatch.setattr("ivr.pbx.root.os.geteuid", lambda: 0)
    monkeypatch.setattr("ivr.pbx.root.shutil.which", lambda name: "/usr/sbin/debootstrap")

    async def failing(debootstrap: str, build: Path, *args: object) -> None:
        (build / "debootstrap").mkdir(parents=True)
        raise RootBuildError(
            describe_failure(
                ["I: Retrieving Packages", "E: Couldn't find these debs: asterisk-modules"], "", 1
            )
        )

    monkeypatch.setattr(rootmod, "_debootstrap", failing)
    with pytest.raises(RootBuildError, match=r"package asterisk-modules failed.*retry later"):
        await ensure_root(target, progress=lambda _m: None)
    assert entries(tmp_path) == []


async def test_successful_build_is_renamed_into_place_with_a_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "asterisk-root"
    (target / "old").mkdir(parents=True)  # a root for another package set
    monkeypatch.setattr("ivr.pbx.root.os.geteuid", lambda: 0)
    monkeypatch.setattr("ivr.pbx.root.shutil.which", lambda name: "/usr/sbin/debootstrap")
    messages: list[str] = []

    async def building(debootstrap: str, build: Path, *args: object) -> None:
        (build / "usr" / "sbin").mkdir(parents=True)
        (build / "usr" / "sbin" / "asterisk").write_text("")
        (build / "etc").mkdir()

    monkeypatch.setattr(rootmod, "_debootstrap", building)
    assert await ensure_root(target, mirror="http://m.example/debian", progress=messages.append) == target
    assert root_is_current(target) and "old" not in entries(target)
    assert entries(tmp_path) == ["asterisk-root"]
    assert "another package set" in messages[0] and "ready" in messages[-1]


def test_describe_failure_reads_the_log_too() -> None:
    log = "dpkg: error processing package libfoo1 (--configure):\n"
    message = describe_failure(["W: Failure trying to run: chroot /x dpkg --configure -a"], log, 1)
    assert "package libfoo1 failed" in message and "sid changes daily" in message
    message = describe_failure(["W: See log (possibly the package asterisk is at fault)"], "", 1)
    assert "package asterisk failed" in message


async def test_not_root_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ivr.pbx.root.os.geteuid", lambda: 1000)
    with pytest.raises(PbxError) as info:
        await ensure_root(tmp_path / "r", progress=lambda _m: None)
    assert "needs root" in str(info.value) and "\n" not in str(info.value)


async def test_debootstrap_output_is_condensed_and_failure_explained(tmp_path: Path) -> None:
    fake = tmp_path / "debootstrap"
    fake.write_text(
        "#!/bin/sh\n"
        'for p in a b c; do echo "I: Retrieving $p 1.0"; echo "I: Validating $p 1.0"; done\n'
        "echo 'I: Extracting a...'\necho 'I: Unpacking a...'\necho 'I: Configuring a...'\n"
        "echo 'W: Failure (possibly the package asterisk-modules is at fault)' >&2\n"
        "exit 1\n"
    )
    fake.chmod(0o755)
    messages: list[str] = []
    with pytest.raises(RootBuildError, match=r"package asterisk-modules failed") as info:
        await rootmod._debootstrap(str(fake), tmp_path / "build", PACKAGES, "http://m", messages.append, 0.0)
    assert "retry later" in str(info.value)
    stages = [m.split("] ", 1)[1] for m in messages]
    assert stages == ["downloading packages…", "extracting the base system…", "installing packages…"]
