from ivr.flows.loader import SHIPPED_DIR, load_paths
from ivr.flows.static_prompts import static_prompts
from ivr.prompts import Speak


def test_static_prompts_cover_both_languages_and_skip_call_variables() -> None:
    flows = load_paths([SHIPPED_DIR]).flows
    prompts = static_prompts(flows["shop"], {"services.orders": "http://x"})
    texts = {(p.text, p.lang) for p in prompts if isinstance(p, Speak)}
    assert ("Thank you for calling Demo Shop.", "en") in texts
    assert any(lang == "ja" for _, lang in texts)
    # the opening-hours text fills in the flow's own vars; the order status needs a lookup, so it waits
    assert any("9 a.m." in text for text, _ in texts)
    assert not any("{" in text for text, _ in texts)
    assert not any(text.startswith("Your order is") for text, _ in texts)
