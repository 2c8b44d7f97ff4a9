"""The operators Kamailio registers: id and secret of each agent in the site's agents file.

Reads only what Kamailio needs (``agents:`` list, ``id`` and ``secret``); the full check of the file
stays with the ACD (``ivr acd check``). An entry without both is refused by name: no anonymous phone.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ivr.cluster.kamailio_conf import KamailioConfigError, Operator


def operators_from_agents_file(path: Path) -> tuple[Operator, ...]:
    """``Operator(id, secret)`` for every agent in ``path`` (the ``IVR_AGENTS_FILE`` format)."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise KamailioConfigError(f"{path}: cannot read the agents ({exc})") from exc
    agents = data.get("agents") if isinstance(data, dict) else None
    if not isinstance(agents, list):
        raise KamailioConfigError(f"{path}: no 'agents:' list")
    operators: list[Operator] = []
    for number, entry in enumerate(agents, start=1):
        agent_id = entry.get("id") if isinstance(entry, dict) else None
        secret = entry.get("secret") if isinstance(entry, dict) else None
        if not isinstance(agent_id, str | int) or not isinstance(secret, str) or not secret:
            raise KamailioConfigError(f"{path}: agent #{number} needs an id and a secret")
        operators.append(Operator(str(agent_id), secret))
    return tuple(operators)
