"""The prompts of a flow that are known before any call: what start-up can synthesise ahead."""

from __future__ import annotations

from collections.abc import Mapping

from ivr.flows.model import Flow
from ivr.flows.promptspec import template_names
from ivr.prompts import Prompt


def static_prompts(flow: Flow, site_vars: Mapping[str, str]) -> list[Prompt]:
    """Every prompt of every node in every language, except texts that need a call's variables."""
    known = {**flow.vars, **site_vars}
    out: list[Prompt] = []
    for verb in flow.nodes.values():
        for _path, text in verb.prompt_fields():
            for lang in flow.languages:
                raw = text.text_for(lang)
                if raw is not None and all(name in known for name in template_names(raw)):
                    out.extend(text.render(lang, known))
    return out
