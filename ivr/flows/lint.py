"""Warnings about flows that load but will sound wrong (the flow is still accepted).

Today: Japanese text containing kanji. espeak-ng's Japanese voice reads every kanji as
"Chinese letter", so Japanese prompts (and the flow ``vars`` they insert) must be written in kana.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ivr.flows.promptspec import ALL_LANGS, template_names
from ivr.flows.verbs.base import Verb
from ivr.flows.yamlpos import Path_
from ivr.speech_text import has_ideographs

JAPANESE = "ja"
KANJI_IN_PROMPT = "kanji cannot be spoken by the Japanese TTS voice; write this prompt in kana"
KANJI_IN_VAR = (
    "kanji cannot be spoken by the Japanese TTS voice; write this text in kana (a Japanese prompt reads it)"
)


def _is_japanese(lang: str) -> bool:
    return lang.split("-")[0] == JAPANESE


def japanese_texts(nodes: Mapping[str, Verb], languages: Iterable[str]) -> list[tuple[Path_, str]]:
    """Every prompt text spoken by the Japanese voice, with its path (``nodes.x.prompt.ja``).

    A plain-text prompt (one text for all languages) counts when the flow speaks Japanese.
    """
    speaks_japanese = any(_is_japanese(lang) for lang in languages)
    out: list[tuple[Path_, str]] = []
    for node_id, verb in nodes.items():
        for rel, prompt in verb.prompt_fields():
            for lang, text in prompt.texts:
                if _is_japanese(lang):
                    out.append((("nodes", node_id, *rel, lang), text))
                elif lang == ALL_LANGS and speaks_japanese:
                    out.append((("nodes", node_id, *rel), text))
    return out


def kanji_warnings(
    nodes: Mapping[str, Verb], languages: Iterable[str], flow_vars: Mapping[str, object]
) -> list[tuple[Path_, str]]:
    """``(path, message)`` for each Japanese prompt, and each flow var one inserts, that has kanji."""
    out: list[tuple[Path_, str]] = []
    used: list[str] = []
    for path, text in japanese_texts(nodes, languages):
        if has_ideographs(text):
            out.append((path, KANJI_IN_PROMPT))
        used += [name for name in template_names(text) if name not in used]
    for name in used:
        value = flow_vars.get(name)
        if isinstance(value, str) and has_ideographs(value):
            out.append((("vars", name), KANJI_IN_VAR))
    return out
