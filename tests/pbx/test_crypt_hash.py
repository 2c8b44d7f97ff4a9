from __future__ import annotations

import shutil
import subprocess

import pytest

from ivr.pbx.crypt_hash import sha512_crypt

# Reference values from glibc/libxcrypt crypt(3) (`openssl passwd -6 -salt SALT PASSWORD` gives the same).
KNOWN = [
    ("secret", "abcdefgh", "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5"),
    ("", "x", "$6$x$QSmr1Bx2g4O6BzKvdkgOcyU6H91X6I/XBv5"),
    ("a" * 200, "0123456789abcdefXYZ", "$6$0123456789abcdef$RBjxx9VcHjdfmVLoRNP7"),
]


@pytest.mark.parametrize(("password", "salt", "prefix"), KNOWN)
def test_matches_libc_crypt(password: str, salt: str, prefix: str) -> None:
    hashed = sha512_crypt(password, salt)
    assert hashed.startswith(prefix)
    assert len(hashed.rsplit("$", 1)[1]) == 86  # 64 digest bytes in crypt's base64


# The spec's own test vectors (Drepper, "Unix crypt using SHA-256 and SHA-512").
def test_spec_vectors() -> None:
    assert sha512_crypt("Hello world!", "saltstring") == (
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
    )
    assert sha512_crypt("Hello world!", "saltstringsaltstring", rounds=10000) == (
        "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sb"
        "HbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."
    )


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_agrees_with_openssl_for_a_random_salt() -> None:
    hashed = sha512_crypt("pässwörd-with-ümlauts")
    salt = hashed.split("$")[2]
    assert len(salt) == 16
    ref = subprocess.run(
        ["openssl", "passwd", "-6", "-salt", salt, "pässwörd-with-ümlauts"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert hashed == ref


def test_random_salts_differ_and_bad_salts_are_refused() -> None:
    assert sha512_crypt("pw") != sha512_crypt("pw")
    with pytest.raises(ValueError, match="salt"):
        sha512_crypt("pw", "bad$salt")
