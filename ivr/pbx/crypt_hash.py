"""SHA-512 crypt (``$6$``, glibc/libxcrypt's ``crypt(3)``), for Asterisk's ``password_format = crypt``.

Standard library only (``hashlib``): the ``crypt`` module is deprecated and gone in Python 3.13, and
``docker/asterisk`` renders the templates without the project's dependencies. The algorithm is
Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" specification.
"""

from __future__ import annotations

import hashlib
import secrets

_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ROUNDS_DEFAULT = 5000
# The spec's byte order for the 64-byte digest: 21 groups of three bytes, then the last byte alone.
_GROUPS = (
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4), (47, 5, 26), (6, 27, 48),
    (28, 49, 7), (50, 8, 29), (9, 30, 51), (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13),
    (56, 14, 35), (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19), (62, 20, 41),
)  # fmt: skip


def _repeat(digest: bytes, length: int) -> bytes:
    return (digest * (length // len(digest) + 1))[:length]


def _encode(b2: int, b1: int, b0: int, count: int) -> str:
    word = (b2 << 16) | (b1 << 8) | b0
    out = []
    for _ in range(count):
        out.append(_ALPHABET[word & 0x3F])
        word >>= 6
    return "".join(out)


def sha512_crypt(password: str, salt: str | None = None, *, rounds: int = _ROUNDS_DEFAULT) -> str:
    """``$6$<salt>$<hash>`` of ``password`` (a random 16-character salt when ``salt`` is None)."""
    if salt is None:
        salt = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    salt = salt[:16]
    if "$" in salt or ":" in salt or "\n" in salt:
        raise ValueError("a crypt salt must not contain '$', ':' or a newline")
    rounds = min(max(rounds, 1000), 999_999_999)
    key, salt_b = password.encode("utf-8"), salt.encode("utf-8")

    alternate = hashlib.sha512(key + salt_b + key).digest()
    first = hashlib.sha512(key + salt_b + _repeat(alternate, len(key)))
    length = len(key)
    while length:
        first.update(alternate if length & 1 else key)
        length >>= 1
    digest = first.digest()

    key_seq = _repeat(hashlib.sha512(key * len(key)).digest(), len(key))
    salt_seq = _repeat(hashlib.sha512(salt_b * (16 + digest[0])).digest(), len(salt_b))
    for n in range(rounds):
        step = hashlib.sha512(key_seq if n & 1 else digest)
        if n % 3:
            step.update(salt_seq)
        if n % 7:
            step.update(key_seq)
        step.update(digest if n & 1 else key_seq)
        digest = step.digest()

    encoded = "".join(_encode(digest[a], digest[b], digest[c], 4) for a, b, c in _GROUPS)
    encoded += _encode(0, 0, digest[63], 2)
    prefix = "$6$" if rounds == _ROUNDS_DEFAULT else f"$6$rounds={rounds}$"
    return f"{prefix}{salt}${encoded}"
