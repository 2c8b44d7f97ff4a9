from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from ivr.web.passwords import (
    MIN_LENGTH,
    WeakPasswordError,
    check_password_rules,
    dummy_verify,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)


def test_hash_verifies_only_the_same_password() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "correct horse batterY")
    assert hash_password("correct horse battery") != hashed  # salted


def test_malformed_hash_never_matches() -> None:
    assert not verify_password("not-a-hash", "whatever123")
    assert not verify_password("", "")


def test_needs_rehash_for_other_parameters() -> None:
    assert not needs_rehash(hash_password("0123456789"))
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("0123456789")
    assert needs_rehash(weak)
    assert needs_rehash("garbage")


def test_rules() -> None:
    check_password_rules("x" * MIN_LENGTH)
    with pytest.raises(WeakPasswordError, match="at least"):
        check_password_rules("x" * (MIN_LENGTH - 1))
    with pytest.raises(WeakPasswordError, match="at most"):
        check_password_rules("x" * 5000)


def test_generated_passwords_pass_the_rules_and_differ() -> None:
    passwords = {generate_password() for _ in range(20)}
    assert len(passwords) == 20
    for p in passwords:
        check_password_rules(p)


def test_dummy_verify_runs() -> None:
    dummy_verify("anything-at-all")  # must not raise for any input
