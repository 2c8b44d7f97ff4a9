"""Adding users and setting passwords, with the rules every way in shares (``/api/users``, ``ivr users``,
the first-start bootstrap): user names, roles, agent ids, password length. Hashing runs in a thread."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any, Protocol

from ivr.store import UserRecord
from ivr.web.passwords import check_password_rules, generate_password, hash_password
from ivr.web.policy import AGENT, ROLES

USER_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class UserAdmin(Protocol):
    async def add_user(
        self, name: str, password_hash: str, role: str, agent_id: str | None, at: datetime
    ) -> UserRecord: ...

    async def get_user(self, name: str) -> UserRecord | None: ...

    async def list_users(self) -> list[UserRecord]: ...

    async def set_user_password(self, name: str, password_hash: str, at: datetime) -> bool: ...


class UserInputError(ValueError):
    """A user name, role, agent id or password that cannot be used; ``field`` names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_user(name: object, role: object, agent_id: object) -> tuple[str, str, str | None]:
    """``(name, role, agent_id)`` checked; an ``agent`` without an agent id is the agent of its name."""
    if not isinstance(name, str) or not USER_NAME.match(name):
        raise UserInputError(
            "name must be 1-64 of a-z, 0-9, '_', '.', '-' (starting with a letter or digit)", "name"
        )
    if not isinstance(role, str) or role not in ROLES:
        raise UserInputError(f"role must be one of {', '.join(ROLES)}", "role")
    if agent_id is not None and (not isinstance(agent_id, str) or not AGENT_ID.match(agent_id)):
        raise UserInputError("agent_id must be 1-64 of A-Z, a-z, 0-9, '_', '.', '-'", "agent_id")
    if role == AGENT:
        return name, role, agent_id if agent_id is not None else name
    if agent_id is not None:
        raise UserInputError("only an agent user has an agent_id", "agent_id")
    return name, role, None


def _password(password: object) -> tuple[str, bool]:
    """``(password, generated)``: the given one checked, or a new one when none is given."""
    if password is None:
        return generate_password(), True
    if not isinstance(password, str):
        raise UserInputError("password must be a string", "password")
    try:
        check_password_rules(password)
    except ValueError as exc:
        raise UserInputError(str(exc), "password") from exc
    return password, False


async def create_user(
    store: UserAdmin,
    name: object,
    role: object,
    agent_id: object = None,
    password: object = None,
    *,
    now: datetime | None = None,
) -> tuple[UserRecord, str | None]:
    """Add a user; returns it and the generated password (``None`` when one was given).
    ``UserInputError`` for bad input, ``ivr.store.UserExistsError`` for a taken name."""
    checked_name, checked_role, checked_agent = check_user(name, role, agent_id)
    plain, generated = _password(password)
    hashed = await asyncio.to_thread(hash_password, plain)
    record = await store.add_user(checked_name, hashed, checked_role, checked_agent, now or datetime.now(UTC))
    return record, plain if generated else None


async def change_password(
    store: UserAdmin, name: str, password: object = None, *, now: datetime | None = None
) -> tuple[bool, str | None]:
    """Set a user's password (ending their sessions): ``(found, generated password or None)``."""
    plain, generated = _password(password)
    hashed = await asyncio.to_thread(hash_password, plain)
    found = await store.set_user_password(name, hashed, now or datetime.now(UTC))
    return found, plain if generated and found else None


def public_user(user: UserRecord) -> dict[str, Any]:
    """A user as the API shows it: never the password hash."""
    return {
        "name": user.name,
        "role": user.role,
        "agent_id": user.agent_id,
        "disabled": user.disabled,
        "created_at": user.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "password_changed_at": user.password_changed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    }
