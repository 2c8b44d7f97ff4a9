"""Password hashing with Argon2id (argon2-cffi, RFC 9106 parameters). Hashing is slow on purpose:
call these from a thread (``asyncio.to_thread``) in request handlers."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 1024
"""Longer is refused: hashing megabytes on request is a denial of service, not security."""

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Made on first use, not at import: a hash costs a controller restart ~0.4 s of CPU before it
    can adopt its calls."""
    return _hasher.hash(secrets.token_urlsafe(16))


class WeakPasswordError(ValueError):
    """The password cannot be used; the message says why."""


def check_password_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"password must be at most {MAX_LENGTH} characters")


def generate_password() -> str:
    """A random password: 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; a malformed hash never matches."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    """Spend the time of a real check, so an unknown user name answers as slowly as a known one."""
    verify_password(_dummy_hash(), password)


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than today's (rehash on the next sign-in)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True
