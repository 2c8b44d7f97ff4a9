"""``pjsip_proxy.conf``: the Kamailio in front of this node (``IVR_SIP_PROXY``), included by pjsip.conf.

With a proxy, Asterisk takes callers' INVITEs from it as from the trunk (same context, same codecs) and
rings operators through it: ``PJSIP/kamailio/sip:AGENT@HOST:PORT`` (``Settings.agent_dial``). Without
one the file holds only a comment, so pjsip.conf's ``#tryinclude`` adds nothing: today's behaviour.
"""

from __future__ import annotations

import string

FILE_NAME = "pjsip_proxy.conf"

_NO_PROXY = "; Rendered by ivr/pbx: no SIP proxy in front of this node (IVR_SIP_PROXY unset).\n"

_SECTIONS = string.Template(
    """; Rendered by ivr/pbx: Kamailio at $host:$port is this node's front door (IVR_SIP_PROXY).
; Callers come through it (context from-trunk, like the trunk); operators' phones are rung through it.
[kamailio]
type = endpoint
transport = transport-udp
context = from-trunk
disallow = all
allow = ulaw,alaw
dtmf_mode = rfc4733
rtp_symmetric = yes
direct_media = no
aors = kamailio

[kamailio]
type = aor
contact = sip:$host:$port
"""
)

_IDENTIFY = string.Template(
    """
[kamailio]
type = identify
endpoint = kamailio
match = $host
"""
)


def proxy_sections(sip_proxy: str | None, *, trunk_match: str) -> str:
    """The file's text for ``HOST:PORT`` (or None). Requests from the proxy's host are identified as
    ``kamailio``, unless the trunk already claims that address (same context either way)."""
    if sip_proxy is None:
        return _NO_PROXY
    host, _, port = sip_proxy.rpartition(":")
    text = _SECTIONS.substitute(host=host, port=port)
    if host not in {m.strip() for m in trunk_match.split(",")}:
        text += _IDENTIFY.substitute(host=host)
    return text
