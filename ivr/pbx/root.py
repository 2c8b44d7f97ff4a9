"""The cached Debian sid root that holds Asterisk (Debian 12 has no Asterisk package).

Built once with debootstrap into a temporary directory beside the target and renamed into
place, so a half-built root is never used. A stamp file records the package set; a changed set
triggers a rebuild.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path

from ivr.pbx.errors import PbxError, RootBuildError

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

SUITE = "sid"
PACKAGES: tuple[str, ...] = (
    "asterisk",
    "asterisk-modules",
    "asterisk-config",
    "asterisk-core-sounds-en-gsm",
    "asterisk-moh-opsound-gsm",  # music on hold for callers waiting in a queue
)
STAMP_NAME = ".ivr-root.json"
FALLBACK_MIRROR = "http://deb.debian.org/debian"
ASTERISK_BIN = "/usr/sbin/asterisk"

# debootstrap "I:" verbs, condensed into the few stages a person cares about
_STAGES = {
    "Retrieving": "downloading packages",
    "Validating": "downloading packages",
    "Checking": "checking the archive",
    "Resolving": "resolving dependencies",
    "Found": "resolving dependencies",
    "Chosen": "resolving dependencies",
    "Extracting": "extracting the base system",
    "Installing": "installing packages",
    "Unpacking": "installing packages",
    "Configuring": "installing packages",
}


def stderr_progress(message: str) -> None:
    """Default progress sink: one line on stderr (the build takes a minute)."""
    print(message, file=sys.stderr, flush=True)


def stamp_for(packages: Sequence[str]) -> dict[str, object]:
    return {"suite": SUITE, "variant": "minbase", "packages": sorted(packages)}


def root_is_current(root: Path, packages: Sequence[str] = PACKAGES) -> bool:
    """True when ``root`` was built by us for exactly this package set and holds Asterisk."""
    try:
        stamp = json.loads((root / STAMP_NAME).read_text())
    except (OSError, json.JSONDecodeError):
        return False
    if not isinstance(stamp, dict):
        return False
    wanted = stamp_for(packages)
    same = all(stamp.get(key) == value for key, value in wanted.items())
    return same and (root / ASTERISK_BIN.lstrip("/")).is_file()


def write_stamp(root: Path, packages: Sequence[str] = PACKAGES, *, mirror: str = "") -> None:
    stamp = {
        **stamp_for(packages),
        "mirror": mirror,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    tmp = root / f"{STAMP_NAME}.tmp"
    tmp.write_text(json.dumps(stamp, indent=2) + "\n")
    os.replace(tmp, root / STAMP_NAME)


def apt_mirror(etc: Path = Path("/etc/apt")) -> str:
    """The Debian mirror apt already uses (first ``URIs:`` / ``deb`` line), else deb.debian.org."""
    candidates = (
        sorted((etc / "sources.list.d").glob("*.sources")) if (etc / "sources.list.d").is_dir() else []
    )
    for path in candidates:
        for line in _lines(path):
            match = re.match(r"^\s*URIs:\s*(\S+)", line)
            if match and "security" not in match.group(1):
                return match.group(1).rstrip("/")
    lists = [etc / "sources.list"]
    if (etc / "sources.list.d").is_dir():
        lists += sorted((etc / "sources.list.d").glob("*.list"))
    for path in lists:
        for line in _lines(path):
            match = re.match(r"^\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+", line)
            if match and "security" not in match.group(1):
                return match.group(1).rstrip("/")
    return FALLBACK_MIRROR


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def copy_hosts(root: Path, hosts: Path = Path("/etc/hosts")) -> None:
    """Give the root the host's /etc/hosts: without it Asterisk's hostname lookups stall calls."""
    if not hosts.is_file():
        return
    target = root / "etc" / "hosts"
    tmp = root / "etc" / f".hosts.{os.getpid()}.{threading.get_ident()}.tmp"  # nodes start in threads
    shutil.copyfile(hosts, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def mounts_under(path: Path) -> list[Path]:
    """Mount points at or below ``path`` in this process's mount namespace."""
    prefix = str(path.resolve())
    found: list[Path] = []
    for line in _lines(Path("/proc/self/mountinfo")):
        fields = line.split()
        if len(fields) > 4:
            point = fields[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                found.append(Path(point))
    return found


async def ensure_root(
    root: Path,
    *,
    packages: Sequence[str] = PACKAGES,
    mirror: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """Return ``root``, building it first when absent or built for another package set."""
    say = progress or stderr_progress
    if root_is_current(root, packages):
        copy_hosts(root)
        return root
    if os.geteuid() != 0:
        raise PbxError(
            f"no Asterisk: building the Debian sid root at {root} needs root; run as root, "
            "or install asterisk on PATH and set IVR_PBX=system"
        )
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise PbxError("debootstrap is missing: apt-get install debootstrap (it builds the Asterisk root)")
    chosen_mirror = mirror or apt_mirror()
    reason = "built for another package set" if _exists(root) else "absent"
    say(
        f"Asterisk root {root} is {reason}: building Debian {SUITE} with {', '.join(packages)} "
        f"from {chosen_mirror} (about a minute)"
    )
    root.parent.mkdir(parents=True, exist_ok=True)
    build = root.parent / f".{root.name}.build-{os.getpid()}"
    _remove_tree(build)
    started = time.monotonic()
    try:
        await _debootstrap(debootstrap, build, packages, chosen_mirror, say, started)
        if not (build / ASTERISK_BIN.lstrip("/")).is_file():
            raise RootBuildError(f"debootstrap finished but {ASTERISK_BIN} is missing in {build}")
        copy_hosts(build)
        write_stamp(build, packages, mirror=chosen_mirror)
    except BaseException:
        _remove_tree(build)
        raise
    _swap_in(build, root)
    say(f"Asterisk root ready at {root} ({time.monotonic() - started:.0f} s)")
    return root


async def _debootstrap(
    debootstrap: str, build: Path, packages: Sequence[str], mirror: str, say: Progress, started: float
) -> None:
    argv = [debootstrap, "--variant=minbase", f"--include={','.join(packages)}", SUITE, str(build), mirror]
    log.info("running %s", " ".join(argv))
    proc = await asyncio.create_subprocess_exec(
        *argv, stdin=subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    assert proc.stdout is not None
    tail: deque[str] = deque(maxlen=400)
    phase = ""
    count = 0
    last_report = 0.0
    try:
        while True:
            raw = await proc.stdout.readline()
            if not raw:
                break
            line = raw.decode(errors="replace").rstrip()
            tail.append(line)
            if not line.startswith("I: "):
                continue
            body = line[3:]
            verb = body.split(" ", 1)[0]
            stage = _STAGES.get(verb)
            if stage is None:
                continue
            now = time.monotonic()
            if stage != phase:
                phase, count, last_report = stage, 0, now
                say(f"[{now - started:4.0f}s] {stage}…")
            count += verb in ("Retrieving", "Extracting", "Unpacking")
            if now - last_report >= 5:
                last_report = now
                say(f"[{now - started:4.0f}s] {stage}: {count} so far ({body[len(verb) :].strip()[:50]})")
        code = await proc.wait()
    except BaseException:
        if proc.returncode is None:
            proc.terminate()
            await proc.wait()
        raise
    if code != 0:
        log_text = "\n".join(_lines(build / "debootstrap" / "debootstrap.log")[-400:])
        raise RootBuildError(describe_failure(list(tail), log_text, code))


def describe_failure(output: Sequence[str], log_text: str, code: int) -> str:
    """One plain message naming the failing package, from debootstrap's output and log."""
    text = "\n".join(output) + "\n" + log_text
    culprit: str | None = None
    patterns = (
        r"possibly the package (\S+) is at fault",
        r"Couldn't find these debs: (.+)",
        r"Couldn't download packages?: (.+)",
        r"dpkg: error processing package (\S+)",
        r"dependency problems prevent configuration of (\S+)",
        r"Failed getting release file",
    )
    for pattern in patterns:
        match = re.search(pattern, text)
        if match:
            culprit = match.group(1).strip().rstrip(":") if match.groups() else "the Release file"
            break
    last_error = next((line for line in reversed(output) if line.startswith(("E:", "W:"))), "")
    what = f"package {culprit} failed" if culprit else f"debootstrap exited with {code}"
    detail = f" ({last_error[:200]})" if last_error else ""
    return (
        f"building the Asterisk root failed: {what}{detail}. Debian sid changes daily, "
        "so a dependency can be briefly uninstallable: retry later"
    )


def _exists(path: Path) -> bool:
    return os.path.lexists(path)


def _swap_in(build: Path, root: Path) -> None:
    """Rename the finished build into place; an older root is moved aside, then removed."""
    old: Path | None = None
    if os.path.lexists(root):
        old = root.parent / f".{root.name}.old-{os.getpid()}"
        os.rename(root, old)
    os.rename(build, root)
    if old is not None:
        _remove_tree(old)


def _remove_tree(path: Path) -> None:
    if not path.exists() and not path.is_symlink():
        return
    for point in sorted(mounts_under(path), key=lambda p: len(str(p)), reverse=True):
        subprocess.run(["umount", "-l", str(point)], check=False, capture_output=True)
    if mounts_under(path):
        log.warning("not removing %s: something is still mounted below it", path)
        return
    shutil.rmtree(path, ignore_errors=True)
