"""The Agents page and the operator panel: every element their scripts look up by id is in the page
fragment, and the pages are served to the roles that may see them."""

from __future__ import annotations

import re

import pytest

from ivr.web.pages import PAGES, PAGES_DIR, STATIC_DIR, render
from ivr.web.principal import Principal

_LOOKUP = re.compile(r"""(?:getElementById|\$)\(\s*"([a-z][a-z0-9-]*)"\s*\)""")
_SELECTOR_ID = re.compile(r"""querySelector(?:All)?\(\s*"#([a-z][a-z0-9-]*)""")


def ids_in(html: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html))


@pytest.mark.parametrize("name", ["agents", "agent"])
def test_every_id_the_script_uses_is_in_the_page(name: str) -> None:
    script = (STATIC_DIR / f"{name}.js").read_text(encoding="utf-8")
    wanted = set(_LOOKUP.findall(script)) | set(_SELECTOR_ID.findall(script))
    assert len(wanted) >= 5  # the pattern finds the script's lookups
    page = next(p for p in PAGES if p.name == name)
    html = render(page, Principal("u", sorted(page.roles)[0], agent_id="2101", csrf_token="t"))
    assert wanted - {"error"} <= ids_in(html)
    assert "error" in ids_in(html)  # showError's box comes from the shell


def test_the_panel_offers_the_pause_reasons() -> None:
    html = (PAGES_DIR / "agent.html").read_text(encoding="utf-8")
    reasons = re.findall(r'<option value="([^"]+)"', html)
    assert reasons == ["break", "lunch", "training", "after-call work", "other"]


def test_the_panel_carries_the_operators_agent_id_for_its_script() -> None:
    page = next(p for p in PAGES if p.name == "agent")
    html = render(page, Principal("op3102", "agent", agent_id="3102", csrf_token="t"))
    assert 'data-agent="3102"' in html
    assert '<script type="module" src="/static/agent.js">' in html
