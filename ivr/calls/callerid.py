"""Caller ID as the store keeps it. Pure.

PJSIP hands over a quoted display name with its RFC 3261 quoted-pairs still escaped
(``"Say \\"hi\\""`` arrives as ``Say \\"hi\\"``); the caller's real name is the unescaped text.
Names and numbers are otherwise kept verbatim — quotes, SQL, HTML and all — only bounded in length
and stripped of control characters, which no display can show.
"""

from __future__ import annotations

MAX_NAME = 120
MAX_NUMBER = 64


def unescape_quoted_pairs(text: str) -> str:
    r"""``\x`` → ``x`` for every quoted-pair; a lone trailing backslash stays."""
    out: list[str] = []
    chars = iter(text)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, None)
            out.append("\\" if nxt is None else nxt)
        else:
            out.append(ch)
    return "".join(out)


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())


def caller_name(raw: str | None) -> str:
    return _printable(unescape_quoted_pairs(raw or ""))[:MAX_NAME]


def caller_number(raw: str | None) -> str:
    return _printable(raw or "")[:MAX_NUMBER]
