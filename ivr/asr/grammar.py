"""Menu words → recogniser grammars. Pure functions.

A menu's words come from flow YAML (``[English]``, ``[new order]``, ``[返品, へんぴん]``): phrases of
one or more words. Engines get them as a closed grammar, so a caller can only be heard saying one of
them (or, for Vosk, ``[unk]``: something else). The word list ``(DIGITS,)`` asks for a spoken digit
string instead (engines that can: Whisper).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

VOSK_UNKNOWN = "[unk]"
DIGITS = "<digits>"
"""Words ``(DIGITS,)`` ask an engine for a spoken digit string (``"4271"``) instead of a menu word.
Engines that cannot hear digit strings return None for it."""
_SPHINX_TOKEN = re.compile(r"[a-z']+")


def phrases(words: Iterable[str]) -> tuple[str, ...]:
    """Normalised (NFKC, lower case, single spaces), de-duplicated phrases in their first order."""
    out: list[str] = []
    for word in words:
        phrase = " ".join(unicodedata.normalize("NFKC", word).casefold().split())
        if phrase and phrase not in out:
            out.append(phrase)
    return tuple(out)


def wants_digits(words: Sequence[str]) -> bool:
    """Is this word list a digit-string request (see :data:`DIGITS`)?"""
    return tuple(words) == (DIGITS,)


def sphinx_tokens(phrase: str) -> tuple[str, ...]:
    """A phrase as PocketSphinx dictionary words: ``"Call-back!"`` → ``("call", "back")``."""
    return tuple(_SPHINX_TOKEN.findall(phrase.casefold().replace("-", " ")))


def split_compound(word: str, known: Callable[[str], bool]) -> tuple[str, str] | None:
    """``callback`` → ``("call", "back")`` when both halves are dictionary words (longest head first)."""
    for cut in range(len(word) - 2, 1, -1):
        head, tail = word[:cut], word[cut:]
        if known(head) and known(tail):
            return head, tail
    return None


def jsgf(alternatives: Sequence[Sequence[str]], name: str = "menu") -> str:
    """A JSGF grammar accepting exactly one of the token sequences."""
    if not alternatives:
        raise ValueError("a grammar needs at least one phrase")
    body = " | ".join(" ".join(tokens) for tokens in alternatives)
    return f"#JSGF V1.0;\ngrammar {name};\npublic <choice> = {body};\n"


def vosk_grammar(words: Iterable[str]) -> str:
    """Vosk's grammar argument: a JSON list of phrases plus ``[unk]``. Non-ASCII must stay unescaped
    (``ensure_ascii=False``) or Vosk finds none of the words in its vocabulary and ignores them."""
    return json.dumps([*phrases(words), VOSK_UNKNOWN], ensure_ascii=False)
