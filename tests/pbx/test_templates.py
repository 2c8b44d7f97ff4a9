from __future__ import annotations

import re
from pathlib import Path

import pytest

from ivr.pbx.templates import TEMPLATE_DIR, TemplateError, render_templates, write_rendered

VALUES = {
    "name": "t1",
    "sip_port": 5099,
    "ari_port": 8099,
    "ari_user": "ivr",
    "ari_password": "s3cret-pw",
    "ari_password_hash": "$6$saltsalt$hashedhash",
    "app": "ivr-app",
    "rtp_start": 30000,
    "rtp_end": 30199,
    "instance_dir": "/srv/ivr/t1",
    "sounds_dir": "/srv/ivr/t1/sounds",
    "moddir": "/usr/lib/x86_64-linux-gnu/asterisk/modules",
    "datadir": "/usr/share/asterisk",
    "bind_address": "127.0.0.1",
    "trunk_match": "127.0.0.1",
    "tone_country": "jp",
}


def sections(text: str) -> list[tuple[str, dict[str, list[str]]]]:
    out: list[tuple[str, dict[str, list[str]]]] = []
    for line in text.splitlines():
        line = line.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            out.append((line[1 : line.index("]")], {}))
        elif out and ("=" in line):
            key, _, value = line.replace("=>", "=").partition("=")
            out[-1][1].setdefault(key.strip(), []).append(value.strip())
    return out


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render_templates(VALUES)


def test_every_template_renders_without_leftover_placeholders(rendered: dict[str, str]) -> None:
    assert {
        "asterisk.conf",
        "modules.conf",
        "pjsip.conf",
        "extensions.conf",
        "http.conf",
        "ari.conf",
        "rtp.conf",
        "sorcery.conf",
        "logger.conf",
        "musiconhold.conf",
    } <= set(rendered)
    for name, text in rendered.items():
        # only Asterisk's own ${VAR} and $[expr] may remain (and the crypt hash's own '$'s)
        text = text.replace(str(VALUES["ari_password_hash"]), "")
        assert not re.search(r"\$(?![{\[])", text), name


def test_ports_user_and_app_land_where_asterisk_reads_them(rendered: dict[str, str]) -> None:
    http = dict(sections(rendered["http.conf"]))["general"]
    assert http["bindaddr"] == ["127.0.0.1"] and http["bindport"] == ["8099"]
    ari = dict(sections(rendered["ari.conf"]))
    assert ari["ivr"]["password"] == ["$6$saltsalt$hashedhash"] and ari["ivr"]["type"] == ["user"]
    assert ari["ivr"]["password_format"] == ["crypt"]
    assert all("s3cret-pw" not in text for text in rendered.values())  # only the hash is written
    rtp = dict(sections(rendered["rtp.conf"]))["general"]
    assert rtp["rtpstart"] == ["30000"] and rtp["rtpend"] == ["30199"]
    dirs = dict(sections(rendered["asterisk.conf"]))["directories"]
    assert dirs["astetcdir"] == ["/srv/ivr/t1/etc"] and dirs["astrundir"] == ["/srv/ivr/t1/run"]
    assert dirs["astdatadir"] == ["/usr/share/asterisk"]


def test_pjsip_has_a_loopback_trunk_and_no_anonymous_endpoint(rendered: dict[str, str]) -> None:
    pjsip = sections(rendered["pjsip.conf"])
    glob = next(body for name, body in pjsip if name == "global")
    assert glob["endpoint_identifier_order"] == ["username,ip"]  # nothing answers as anonymous
    transport = next(body for name, body in pjsip if name == "transport-udp")
    assert transport["bind"] == ["127.0.0.1:5099"]
    endpoint = next(body for name, body in pjsip if body.get("type") == ["endpoint"])
    assert endpoint["context"] == ["from-trunk"] and endpoint["dtmf_mode"] == ["rfc4733"]
    identify = next(body for name, body in pjsip if body.get("type") == ["identify"])
    assert identify["match"] == ["127.0.0.1"]
    assert "anonymous" not in [name for name, _ in pjsip]


def test_dialplan_sends_calls_to_stasis_with_fallback(rendered: dict[str, str]) -> None:
    dialplan = dict(sections(rendered["extensions.conf"]))
    trunk = " ".join(dialplan["from-trunk"]["exten"] + dialplan["from-trunk"].get("same", []))
    for pattern in ("_X.,1,Stasis(ivr-app)", "_[*#+A-Za-z0-9].,1,Stasis(ivr-app)", "s,1,Stasis(ivr-app)"):
        assert pattern in trunk
    assert '"${STASISSTATUS}" = "FAILED"' in trunk and "controller-away" in trunk
    assert "bench-dialplan" in trunk
    away = " ".join(dialplan["controller-away"]["exten"] + dialplan["controller-away"]["same"])
    assert "Playback(" in away and "Hangup()" in away
    bench = " ".join(dialplan["bench-dialplan"]["exten"] + dialplan["bench-dialplan"]["same"])
    for app in ("Answer()", "Read(DIGITS,hello-world,12,,1,5)", "SayDigits(${DIGITS})", "Hangup()"):
        assert app in bench


def test_modules_autoload_off_and_sorcery_has_memory_backend(rendered: dict[str, str]) -> None:
    modules = dict(sections(rendered["modules.conf"]))["modules"]
    assert modules["autoload"] == ["no"]
    loads = modules["load"]
    for needed in (
        "chan_pjsip.so",
        "res_ari.so",
        "app_stasis.so",
        "chan_rtp.so",
        "res_rtp_multicast.so",
        "res_websocket_client.so",
        "res_stasis_snoop.so",
        "app_read.so",
        "res_timing_timerfd.so",
    ):
        assert needed in loads
    assert len(loads) == len(set(loads))
    sorcery = dict(sections(rendered["sorcery.conf"]))["res_pjsip"]
    assert sorcery["endpoint"][-1] == "memory" and sorcery["auth"][-1] == "memory"


def test_missing_value_names_the_variable() -> None:
    values = dict(VALUES)
    del values["ari_port"]
    with pytest.raises(TemplateError, match=r"\$ari_port"):
        render_templates(values)


def test_stray_dollar_is_reported(tmp_path: Path) -> None:
    (tmp_path / "bad.conf").write_text("x = ${EXTEN} $[1]\n")
    with pytest.raises(TemplateError, match=r"\$\$"):
        render_templates(VALUES, tmp_path)


def test_write_rendered_is_private(tmp_path: Path) -> None:
    write_rendered({"ari.conf": "secret"}, tmp_path / "etc")
    path = tmp_path / "etc" / "ari.conf"
    assert path.read_text() == "secret" and path.stat().st_mode & 0o777 == 0o640


def test_template_dir_is_the_repository_folder() -> None:
    assert TEMPLATE_DIR.name == "asterisk_conf" and (TEMPLATE_DIR / "pjsip.conf").is_file()


def test_security_events_have_their_own_log(rendered: dict[str, str]) -> None:
    logfiles = dict(sections(rendered["logger.conf"]))["logfiles"]
    assert logfiles["security.log"] == ["security"]
    assert "res_security_log.so" in dict(sections(rendered["modules.conf"]))["modules"]["load"]
