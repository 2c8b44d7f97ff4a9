"""Render kamailio.cfg for the Kamailio container at start, then exec Kamailio (``--exec``).

Environment: ``IVR_KAMAILIO_NODES`` (``host:port,…``: the Asterisk nodes), ``IVR_AGENTS_FILE`` (the
operators who may register), ``IVR_KAMAILIO_HOST`` (the name it listens on and is reached by, default
``kamailio``), ``IVR_KAMAILIO_PORT`` (default 5060). Standard library + PyYAML only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ivr.cluster.kamailio_conf import (
    KamailioSettings,
    Node,
    render_config,
    render_dispatcher_list,
)
from ivr.cluster.operators import operators_from_agents_file

RUN_DIR = Path(os.environ.get("IVR_KAMAILIO_RUN_DIR", "/run/kamailio-ivr"))


def main() -> int:
    nodes = []
    for item in os.environ.get("IVR_KAMAILIO_NODES", "").split(","):
        host, _, port = item.strip().rpartition(":")
        if host and port.isdigit():
            nodes.append(Node(host, int(port)))
    settings = KamailioSettings(
        nodes=tuple(nodes),
        operators=operators_from_agents_file(Path(os.environ.get("IVR_AGENTS_FILE", "/etc/ivr/agents.yaml"))),
        listen_host=os.environ.get("IVR_KAMAILIO_HOST", "kamailio"),  # the service name other containers use
        listen_port=int(os.environ.get("IVR_KAMAILIO_PORT", "5060")),
    )
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    dispatcher = RUN_DIR / "dispatcher.list"
    dispatcher.write_text(render_dispatcher_list(settings.nodes))
    config = RUN_DIR / "kamailio.cfg"
    config.write_text(render_config(settings, dispatcher_file=dispatcher))
    config.chmod(0o600)  # operators' digest hashes
    print(f"kamailio: {len(nodes)} node(s), {len(settings.operators)} operator(s)", file=sys.stderr)
    if "--exec" in sys.argv:
        os.execv("/usr/sbin/kamailio", ["kamailio", "-f", str(config), "-DD", "-E"])  # noqa: S606
    return 0


if __name__ == "__main__":
    sys.exit(main())
