"""First start: an ``admin`` user and one ``agent`` user per configured agent, so the pages can be used
straight after ``make up``. Generated passwords are kept in the data directory (mode 0600):
``admin_password`` (the password alone) and ``agent_passwords`` (``name password`` lines).
Only users that do not exist yet are created; ``IVR_ADMIN_PASSWORD`` re-sets admin's password when it
differs from the stored one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from ivr.web.auth import write_private
from ivr.web.passwords import WeakPasswordError, check_password_rules, verify_password
from ivr.web.policy import ADMIN
from ivr.web.users import USER_NAME, UserAdmin, change_password, create_user

log = logging.getLogger(__name__)

ADMIN_USER = "admin"
ADMIN_PASSWORD_FILE = "admin_password"  # noqa: S105 - a file name
AGENT_PASSWORDS_FILE = "agent_passwords"


async def _ensure_admin(
    store: UserAdmin, data_dir: Path, admin_password: str | None, now: datetime
) -> list[str]:
    if admin_password is not None:
        try:
            check_password_rules(admin_password)
        except WeakPasswordError as exc:
            raise WeakPasswordError(f"IVR_ADMIN_PASSWORD: {exc}") from exc
    existing = await store.get_user(ADMIN_USER)
    if existing is None:
        _, generated = await create_user(store, ADMIN_USER, ADMIN, None, admin_password, now=now)
        if generated is None:
            return [f"web sign-in: user {ADMIN_USER}, password from IVR_ADMIN_PASSWORD"]
        path = data_dir / ADMIN_PASSWORD_FILE
        write_private(path, generated + "\n")
        return [f"web sign-in: user {ADMIN_USER}, password {generated} (kept in {path})"]
    if admin_password is not None and not await asyncio.to_thread(
        verify_password, existing.password_hash, admin_password
    ):
        await change_password(store, ADMIN_USER, admin_password, now=now)
        log.info("admin password set from IVR_ADMIN_PASSWORD")
        return [f"web sign-in: user {ADMIN_USER}, password changed to IVR_ADMIN_PASSWORD"]
    path = data_dir / ADMIN_PASSWORD_FILE
    if admin_password is None and path.is_file():
        return [f"web sign-in: user {ADMIN_USER}, password in {path}"]
    return []


async def _ensure_agents(
    store: UserAdmin, data_dir: Path, agent_ids: Iterable[str], now: datetime
) -> list[str]:
    created: list[tuple[str, str]] = []
    for agent_id in dict.fromkeys(agent_ids):
        if not USER_NAME.match(agent_id):
            log.warning("agent %r gets no web user: not a usable user name (ivr users add)", agent_id)
            continue
        if await store.get_user(agent_id) is not None:
            continue
        _, password = await create_user(store, agent_id, "agent", agent_id, now=now)
        assert password is not None
        created.append((agent_id, password))
    if not created:
        return []
    path = data_dir / AGENT_PASSWORDS_FILE
    try:
        kept = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        kept = ""
    if kept and not kept.endswith("\n"):
        kept += "\n"
    write_private(path, kept + "".join(f"{name} {password}\n" for name, password in created))
    names = ", ".join(name for name, _ in created)
    return [f"web sign-in for operators {names}: user = agent id, passwords in {path}"]


async def ensure_users(
    store: UserAdmin,
    data_dir: Path,
    admin_password: str | None,
    agent_ids: Iterable[str],
    *,
    now: datetime | None = None,
) -> list[str]:
    """Create the missing first-start users; the banner lines to show (a generated admin password is
    shown once, the time it is made). ``WeakPasswordError`` if ``admin_password`` is too short."""
    when = now or datetime.now(UTC)
    data_dir = Path(data_dir)
    lines = await _ensure_admin(store, data_dir, admin_password or None, when)
    return lines + await _ensure_agents(store, data_dir, agent_ids, when)


def generated_passwords(data_dir: Path) -> list[str]:
    """The passwords generated at first start (admin's and the operators'), as kept in ``data_dir``."""
    found: list[str] = []
    for name in (ADMIN_PASSWORD_FILE, AGENT_PASSWORDS_FILE):
        try:
            text = (data_dir / name).read_text()
        except OSError:
            continue
        for line in text.splitlines():
            secret = line.split()[-1] if line.split() else ""
            if secret:
                found.append(secret)
    return found
