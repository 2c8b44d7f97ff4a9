"""pjsip_proxy.conf: nothing without a proxy; with one, a ``kamailio`` endpoint that calls enter from (like
the trunk) and operators are rung through."""

from __future__ import annotations

from pathlib import Path

from ivr.pbx.config import PbxConfig
from ivr.pbx.instance import Pbx
from ivr.pbx.sip_proxy import FILE_NAME, proxy_sections
from ivr.pbx.templates import TEMPLATE_DIR
from tests.pbx.test_templates import sections


def test_pjsip_conf_includes_the_proxy_file_which_says_nothing_without_a_proxy() -> None:
    assert f"#tryinclude {FILE_NAME}" in (TEMPLATE_DIR / "pjsip.conf").read_text()
    assert sections(proxy_sections(None, trunk_match="127.0.0.1")) == []


def test_a_proxy_becomes_an_endpoint_in_the_trunks_context_with_its_address_as_contact() -> None:
    text = proxy_sections("10.0.0.5:5090", trunk_match="127.0.0.1")
    found = {body["type"][0]: body for name, body in sections(text) if name == "kamailio"}
    assert found["endpoint"]["context"] == ["from-trunk"]
    assert found["endpoint"]["aors"] == ["kamailio"]
    assert found["aor"]["contact"] == ["sip:10.0.0.5:5090"]
    assert found["identify"]["match"] == ["10.0.0.5"]  # its requests are recognised as Kamailio's


def test_a_proxy_on_the_trunks_address_is_left_to_the_trunks_identify() -> None:
    text = proxy_sections("127.0.0.1:5090", trunk_match="127.0.0.1, 192.168.0.0/16")
    kinds = [body["type"][0] for name, body in sections(text) if name == "kamailio"]
    assert kinds == ["endpoint", "aor"]  # two identifies for one address would make the match arbitrary


def test_the_instance_writes_the_proxy_file_beside_pjsip_conf(tmp_path: Path) -> None:
    modules = tmp_path / "usr/lib/x86_64-linux-gnu/asterisk/modules"  # a root with just enough in it
    modules.mkdir(parents=True)
    (modules / "chan_pjsip.so").touch()
    config = PbxConfig("unit", 5099, 8099, "ivr", "pw-unit", "ivr", 30000, 30199, sip_proxy="127.0.0.1:5090")
    instance = tmp_path / "srv/ivr/unit"
    Pbx(config, mode="root", instance_dir=instance, chroot=tmp_path)._prepare()
    assert "contact = sip:127.0.0.1:5090" in (instance / "etc" / FILE_NAME).read_text()
    assert "#tryinclude pjsip_proxy.conf" in (instance / "etc" / "pjsip.conf").read_text()
