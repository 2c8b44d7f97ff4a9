"""Who may use which route: the one table, deny by default.

Every route the web app serves must have a rule here, keyed by ``(METHOD, canonical path)`` exactly as
aiohttp registers it (``/api/agents/{agent_id}/state``). A route without a rule is refused (403) for
everyone, and ``tests/web/test_policy.py`` walks the app's route table to prove each rule is enforced.

Roles: ``admin`` (everything), ``supervisor`` (wallboard, reports, calls, agents, listening in; flows
read-only), ``agent`` (own panel). The bearer token of scripts (``IVR_ADMIN_TOKEN``) acts as ``admin``.
``own`` names a path parameter an ``agent`` may only use with their own agent id (or the id of the call
they are talking to, for ``call_id``).
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN = "admin"
SUPERVISOR = "supervisor"
AGENT = "agent"
ROLES = (ADMIN, SUPERVISOR, AGENT)

STAFF = frozenset({ADMIN, SUPERVISOR})
EVERYONE = frozenset(ROLES)
ADMINS = frozenset({ADMIN})


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    """Roles allowed; empty with ``public`` set means no sign-in needed."""
    public: bool = False
    own: str | None = None
    """Path parameter an ``agent`` may only use for themself (``agent_id``) or their current call
    (``call_id``)."""
    page: bool = False
    """An HTML page: without a session the browser is sent to ``/login`` instead of a 401."""


PUBLIC = Rule(roles=frozenset(), public=True)


def _page(roles: frozenset[str]) -> Rule:
    return Rule(roles=roles, page=True)


RULES: dict[tuple[str, str], Rule] = {
    # health, sign-in, static assets (no secrets in them)
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): Rule(roles=EVERYONE),
    ("GET", "/static/{path}"): PUBLIC,
    # the demo order service the shipped flows look up over HTTP (loopback, made-up data)
    ("GET", "/demo/orders"): PUBLIC,
    ("GET", "/demo/orders/{number}"): PUBLIC,
    ("POST", "/demo/orders"): PUBLIC,
    ("GET", "/demo/customers"): PUBLIC,
    ("GET", "/demo/items/{item}"): PUBLIC,
    # pages
    ("GET", "/"): _page(EVERYONE),
    ("GET", "/wallboard"): _page(STAFF),
    ("GET", "/reports"): _page(STAFF),
    ("GET", "/calls"): _page(STAFF),
    ("GET", "/calls/{call_id}"): _page(STAFF),
    ("GET", "/flows"): _page(STAFF),
    ("GET", "/flows/{name}"): _page(STAFF),
    ("GET", "/agents"): _page(STAFF),
    ("GET", "/agent"): _page(frozenset({AGENT})),
    # operations
    ("GET", "/metrics"): Rule(roles=STAFF),
    ("GET", "/api/openapi.json"): Rule(roles=EVERYONE),
    ("GET", "/api/me"): Rule(roles=EVERYONE),
    ("GET", "/api/stats"): Rule(roles=STAFF),
    # users
    ("GET", "/api/users"): Rule(roles=ADMINS),
    ("POST", "/api/users"): Rule(roles=ADMINS),
    ("POST", "/api/users/{name}/password"): Rule(roles=ADMINS),
    # calls and callbacks
    ("GET", "/api/calls"): Rule(roles=STAFF),
    ("GET", "/api/calls/{call_id}"): Rule(roles=STAFF),
    ("GET", "/api/callbacks"): Rule(roles=STAFF),
    ("POST", "/api/calls/{call_id}/transfer"): Rule(roles=EVERYONE, own="call_id"),
    ("POST", "/api/calls/{call_id}/recording"): Rule(roles=EVERYONE, own="call_id"),
    ("POST", "/api/calls/{call_id}/listen"): Rule(roles=STAFF),
    ("GET", "/api/recordings/{recording_id}"): Rule(roles=STAFF),
    # live wallboard
    ("GET", "/api/wallboard"): Rule(roles=STAFF),
    ("GET", "/api/wallboard/ws"): Rule(roles=STAFF),
    # reports
    ("GET", "/api/report"): Rule(roles=STAFF),
    ("GET", "/api/report/charts"): Rule(roles=STAFF),
    ("GET", "/api/report/export.csv"): Rule(roles=STAFF),
    # flows: staff read, admins change
    ("GET", "/api/flows"): Rule(roles=STAFF),
    ("GET", "/api/flows/{name}"): Rule(roles=STAFF),
    ("GET", "/api/flows/{name}/graph.svg"): Rule(roles=STAFF),
    ("GET", "/api/flows/{name}/versions"): Rule(roles=STAFF),
    ("GET", "/api/flows/{name}/versions/{version}"): Rule(roles=STAFF),
    ("POST", "/api/flows/{name}/check"): Rule(roles=ADMINS),
    ("PUT", "/api/flows/{name}"): Rule(roles=ADMINS),
    ("POST", "/api/flows/{name}/rollback"): Rule(roles=ADMINS),
    # ACD
    ("GET", "/api/acd"): Rule(roles=STAFF),
    ("GET", "/api/queues"): Rule(roles=STAFF),
    ("GET", "/api/agents"): Rule(roles=STAFF),
    ("POST", "/api/agents/{agent_id}/state"): Rule(roles=EVERYONE, own="agent_id"),
    ("GET", "/api/agents/{agent_id}/current"): Rule(roles=EVERYONE, own="agent_id"),
    ("PUT", "/api/agents/{agent_id}/skills"): Rule(roles=STAFF),
}


def rule_for(method: str, canonical: str) -> Rule | None:
    """The rule of a route; ``HEAD`` follows ``GET``. ``None``: no rule, so nobody may use it."""
    method = "GET" if method == "HEAD" else method
    return RULES.get((method, canonical))
