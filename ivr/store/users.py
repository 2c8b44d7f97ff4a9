"""People who sign in to the browser pages, and their sessions.

Only the SHA-256 of a session's cookie token is stored: a copy of the database does not let anyone in.
Changing a user's password or disabling them ends all their sessions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from ivr.store.database import Database
from ivr.store.models import UserRow, WebSessionRow
from ivr.store.timeutil import to_utc


class UserExistsError(ValueError):
    """A user of that name exists already."""


@dataclass(frozen=True)
class UserRecord:
    name: str
    role: str
    agent_id: str | None
    disabled: bool
    password_hash: str
    created_at: datetime
    password_changed_at: datetime


@dataclass(frozen=True)
class WebSessionRecord:
    """A live session with its user, as the access check needs it."""

    user: UserRecord
    csrf_token: str
    expires_at: datetime


def session_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _user(row: UserRow) -> UserRecord:
    return UserRecord(
        name=row.name,
        role=row.role,
        agent_id=row.agent_id,
        disabled=bool(row.disabled),
        password_hash=row.password_hash,
        created_at=row.created_at,
        password_changed_at=row.password_changed_at,
    )


class Users(Database):
    async def add_user(
        self, name: str, password_hash: str, role: str, agent_id: str | None, at: datetime
    ) -> UserRecord:
        """Create a user; ``UserExistsError`` if the name is taken."""
        row = UserRow(
            name=name,
            password_hash=password_hash,
            role=role,
            agent_id=agent_id,
            disabled=False,
            created_at=to_utc(at),
            password_changed_at=to_utc(at),
        )
        try:
            async with self._tx() as session:
                if await session.get(UserRow, name) is not None:
                    raise UserExistsError(f"user {name!r} exists already")
                session.add(row)
        except IntegrityError as exc:  # a concurrent add won the race
            raise UserExistsError(f"user {name!r} exists already") from exc
        return _user(row)

    async def get_user(self, name: str) -> UserRecord | None:
        async with self._session() as session:
            row = await session.get(UserRow, name)
            return _user(row) if row is not None else None

    async def list_users(self) -> list[UserRecord]:
        async with self._session() as session:
            rows = (await session.execute(select(UserRow).order_by(UserRow.name))).scalars()
            return [_user(r) for r in rows]

    async def set_user_password(self, name: str, password_hash: str, at: datetime) -> bool:
        """Replace the password hash and end the user's sessions; False if there is no such user."""
        async with self._tx() as session:
            result = await session.execute(
                update(UserRow)
                .where(UserRow.name == name)
                .values(password_hash=password_hash, password_changed_at=to_utc(at))
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            await session.execute(delete(WebSessionRow).where(WebSessionRow.user_name == name))
            return True

    async def set_user_disabled(self, name: str, disabled: bool) -> bool:
        """Disable (ending their sessions) or enable a user; False if there is no such user."""
        async with self._tx() as session:
            result = await session.execute(
                update(UserRow).where(UserRow.name == name).values(disabled=disabled)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return False
            if disabled:
                await session.execute(delete(WebSessionRow).where(WebSessionRow.user_name == name))
            return True

    # -- web sessions ------------------------------------------------------------------------

    async def create_web_session(
        self, token: str, user_name: str, csrf_token: str, created_at: datetime, expires_at: datetime
    ) -> None:
        """Keep a new session; only the SHA-256 of ``token`` is stored."""
        async with self._tx() as session:
            session.add(
                WebSessionRow(
                    token_hash=session_token_hash(token),
                    user_name=user_name,
                    csrf_token=csrf_token,
                    created_at=to_utc(created_at),
                    expires_at=to_utc(expires_at),
                )
            )

    async def find_web_session(self, token: str, now: datetime) -> WebSessionRecord | None:
        """The unexpired session of a cookie token, with its user; ``None`` if unknown or expired."""
        async with self._session() as session:
            stmt = (
                select(WebSessionRow, UserRow)
                .join(UserRow, UserRow.name == WebSessionRow.user_name)
                .where(
                    WebSessionRow.token_hash == session_token_hash(token),
                    WebSessionRow.expires_at > to_utc(now),
                )
            )
            found = (await session.execute(stmt)).first()
            if found is None:
                return None
            web_session, user = found
            return WebSessionRecord(
                user=_user(user), csrf_token=web_session.csrf_token, expires_at=web_session.expires_at
            )

    async def delete_web_session(self, token: str) -> None:
        async with self._tx() as session:
            await session.execute(
                delete(WebSessionRow).where(WebSessionRow.token_hash == session_token_hash(token))
            )

    async def delete_expired_web_sessions(self, now: datetime) -> int:
        """Remove sessions past their expiry; how many went."""
        async with self._tx() as session:
            result = await session.execute(
                delete(WebSessionRow).where(WebSessionRow.expires_at <= to_utc(now))
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
