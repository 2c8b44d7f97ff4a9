"""The HTTP API fuzzed against its own OpenAPI description (schemathesis), on a real controller.

A private Asterisk and controller (copies of the test agents, queues and flows) so that generated
state changes — agent states, published flows, users, skills — touch nobody else's test. Three promises:

1. every operation, fed generated valid and invalid input, answers with a documented status code, the
   documented content type and a body matching its schema — never a 5xx (and the controller logs no
   traceback);
2. no request gets in without the right credentials: no credentials, a wrong bearer token or a garbage
   session cookie get 401 on every non-public operation; an agent's session gets 403 on staff and admin
   routes and on other agents' ids, a supervisor's on admin routes; a signed-in session without its CSRF
   token, or from a foreign ``Origin``, gets 403 on every state-changing route;
3. no answer is unbounded: every list with ``limit`` refuses ``limit=10**9`` and answers its largest
   ``limit`` under 1 MB with more rows stored than that; the CSV export is streamed.

``CI=true`` derandomizes hypothesis (the same cases every run).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ivr.store import CallStore
from ivr.testing.stack import ControllerProcess, TestPbx, start_test_pbx
from ivr.web.openapi import openapi_document

HERE = Path(__file__).resolve().parent
ADMIN_PASSWORD = "apifuzz-admin-password-1"
PASSWORD = "apifuzz-user-password-1"
AGENT_ID, OTHER_AGENT = "3101", "3102"
MAX_BODY = 1_000_000
SEEDED_CALLS = 520  # more than the largest `limit` (500)
EXAMPLES = {GenerationMode.POSITIVE: 8, GenerationMode.NEGATIVE: 6}
SLOW_EXAMPLES = {"POST /api/users": 3, "POST /api/users/{name}/password": 3, "POST /logout": 3}
"""Operations that hash a password (deliberately slow) get fewer cases."""
DERANDOMIZE = os.environ.get("CI") == "true"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
AUTH_HEADERS = ("authorization", "cookie", "x-csrf-token", "origin")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

DOCUMENT = openapi_document()
OPERATIONS = [
    (method.upper(), path, op)
    for path, item in DOCUMENT["paths"].items()
    for method, op in item.items()
    if method in ("get", "put", "post", "delete", "patch")
]
NOT_FUZZED = {("GET", "/api/wallboard/ws"): "a WebSocket: tests/web/test_wallboard.py"}
PROTECTED = [(m, p, op) for m, p, op in OPERATIONS if op.get("security") != []]
PATH_VALUES = {"agent_id": OTHER_AGENT, "call_id": "no-such-call", "name": "acd_lines", "version": "1"}
PATH_VALUES |= {"recording_id": "1", "number": "1234", "item": "1"}


def _label(operation: tuple[str, str, Any]) -> str:
    return f"{operation[0]} {operation[1]}"


@dataclass(frozen=True)
class Api:
    base_url: str
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Session:
    cookie: str
    csrf: str

    def headers(self, *, csrf: bool = True) -> dict[str, str]:
        headers = {"Cookie": f"ivr_session={self.cookie}"}
        return headers | ({"X-CSRF-Token": self.csrf} if csrf else {})


def _seed_calls(data_dir: Path) -> None:
    """More calls than the largest page, each with a path and an input, before the controller starts."""

    async def seed() -> None:
        store = CallStore(f"sqlite+aiosqlite:///{data_dir / 'ivr.db'}")
        await store.open()
        try:
            t0 = datetime.now(UTC) - timedelta(hours=2)
            async with store.batch():  # one transaction
                for n in range(SEEDED_CALLS):
                    at, call_id = t0 + timedelta(seconds=n), f"seed-{n:04d}"
                    await store.call_started(call_id, call_id, "0312345678", "Seed " * 8, "7001", "shop", at)
                    await store.node_entered(call_id, "main_menu", at)
                    await store.call_ended(call_id, at + timedelta(seconds=30), "completed", "16")
        finally:
            await store.close()

    asyncio.run(seed())


@pytest.fixture(scope="module")
def pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestPbx]:
    running = start_test_pbx(tmp_path_factory.mktemp("apifuzz-pbx"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def api(pbx: TestPbx, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    site = tmp_path_factory.mktemp("apifuzz-site")
    (site / "flows").mkdir()
    shutil.copy(HERE / "flows" / "acd_lines.yaml", site / "flows" / "acd_lines.yaml")
    for name in ("agents.yaml", "queues.yaml"):
        shutil.copy(HERE / "acd" / name, site / name)
    _seed_calls(pbx.data_dir)
    controller = ControllerProcess(
        env={
            **pbx.env,
            "IVR_AGENTS_FILE": str(site / "agents.yaml"),
            "IVR_QUEUES_FILE": str(site / "queues.yaml"),
            "IVR_FLOWS_DIR": str(site / "flows"),
            "IVR_HOURS_OVERRIDE": "open",
            "IVR_ADMIN_PASSWORD": ADMIN_PASSWORD,
        },
        log_path=pbx.data_dir / "controller.log",
        token="apifuzz-admin-token-0123456789",
    )
    controller.start()
    try:
        yield Api(controller.base_url, controller.token)
    finally:
        controller.stop()
        log = controller.log_text()
        assert "Traceback" not in log, f"the controller logged a traceback:\n{controller.log_tail(200)}"


def _sign_in(api: Api, user: str, password: str) -> Session:
    with requests.Session() as browser:
        form = browser.get(f"{api.base_url}/login", timeout=10)
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf, form.text[:500]
        data = {"user": user, "password": password, "csrf": csrf.group(1)}
        answer = browser.post(f"{api.base_url}/login", data=data, allow_redirects=False, timeout=10)
        assert answer.status_code == 302, answer.text[:500]
        cookie = browser.cookies.get("ivr_session")
        assert cookie
        me = browser.get(f"{api.base_url}/api/me", timeout=10).json()
    return Session(cookie, me["csrf_token"])


@pytest.fixture(scope="module")
def sessions(api: Api) -> dict[str, Session]:
    """Signed-in sessions of each role (users made through the API with the bearer token)."""
    users = {"fuzz-supervisor": ("supervisor", None), "fuzz-agent": ("agent", AGENT_ID)}
    for name, (role, agent_id) in users.items():
        body = {"name": name, "role": role, "agent_id": agent_id, "password": PASSWORD}
        answer = requests.post(f"{api.base_url}/api/users", json=body, headers=api.bearer, timeout=10)
        assert answer.status_code == 201, answer.text
    return {
        "admin": _sign_in(api, "admin", ADMIN_PASSWORD),
        "supervisor": _sign_in(api, "fuzz-supervisor", PASSWORD),
        "agent": _sign_in(api, "fuzz-agent", PASSWORD),
    }


@pytest.fixture(scope="module")
def schema(api: Api) -> Any:
    return schemathesis.openapi.from_url(f"{api.base_url}/api/openapi.json", headers=api.bearer)


def _send(case: Any, api: Api, headers: dict[str, str]) -> requests.Response:
    """The generated request with exactly ``headers`` as its credentials (schemathesis' own are dropped)."""
    kwargs = case.as_transport_kwargs(base_url=api.base_url)
    kwargs["headers"] = {k: v for k, v in kwargs["headers"].items() if k.lower() not in AUTH_HEADERS}
    kwargs["headers"].update(headers)
    kwargs["cookies"] = {}
    return requests.request(**kwargs, timeout=15, allow_redirects=False)


def _for_cases(
    strategy: Any, examples: int, test: Callable[[Any], None], *, may_be_impossible: bool = False
) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=DERANDOMIZE,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    @given(strategy)
    def run(case: Any) -> None:
        test(case)

    try:
        run()
    except Unsatisfiable:
        if not may_be_impossible:
            raise


# -- 2. no way in without the right credentials ------------------------------------------------------

STRANGERS = {
    "no credentials": {},
    "wrong bearer token": {"Authorization": "Bearer not-the-token"},
    "bearer token's prefix": {"Authorization": "Bearer apifuzz-admin-token"},
    "basic auth": {"Authorization": "Basic YWRtaW46YWRtaW4="},
    "garbage session cookie": {"Cookie": "ivr_session=garbage; x=1", "X-CSRF-Token": "garbage"},
    "oversized session cookie": {"Cookie": "ivr_session=" + "A" * 5000},
}


@pytest.mark.parametrize("operation", PROTECTED, ids=_label)
def test_strangers_are_refused_everywhere(api: Api, schema: Any, operation: tuple[str, str, Any]) -> None:
    method, path, _ = operation

    def check(case: Any) -> None:
        for who, headers in STRANGERS.items():
            response = _send(case, api, headers)
            assert response.status_code == 401, f"{who}: {response.status_code} {case.as_curl_command()}"

    _for_cases(schema[path][method].as_strategy(path_parameters=_own_params(operation)), 2, check)


def _own_params(operation: tuple[str, str, Any]) -> dict[str, str]:
    """Path values that are never the signed-in agent's own (``x-own`` parameters)."""
    names = re.findall(r"{(\w+)}", operation[1])
    return {name: PATH_VALUES[name] for name in names if name == operation[2].get("x-own")}


def _refused_roles(operation: tuple[str, str, Any]) -> list[str]:
    roles = set(operation[2].get("x-roles", []))
    refused = [role for role in ("agent", "supervisor") if role not in roles]
    if operation[2].get("x-own") and "agent" not in refused:
        refused.append("agent")  # on someone else's agent id or call
    return refused


@pytest.mark.parametrize("operation", [o for o in PROTECTED if _refused_roles(o)], ids=_label)
def test_roles_cannot_reach_beyond_their_rights(
    api: Api, schema: Any, sessions: dict[str, Session], operation: tuple[str, str, Any]
) -> None:
    method, path, _ = operation

    def check(case: Any) -> None:
        for role in _refused_roles(operation):
            response = _send(case, api, sessions[role].headers())
            assert response.status_code == 403, f"{role}: {response.status_code} {case.as_curl_command()}"

    _for_cases(schema[path][method].as_strategy(path_parameters=_own_params(operation)), 3, check)


@pytest.mark.parametrize("operation", [o for o in PROTECTED if o[0] in UNSAFE], ids=_label)
def test_state_changes_need_the_csrf_token_and_our_origin(
    api: Api, schema: Any, sessions: dict[str, Session], operation: tuple[str, str, Any]
) -> None:
    method, path, _ = operation
    admin = sessions["admin"]
    attempts = {
        "no CSRF token": admin.headers(csrf=False),
        "another session's CSRF token": admin.headers(csrf=False) | {"X-CSRF-Token": sessions["agent"].csrf},
        "a foreign Origin": admin.headers() | {"Origin": "http://evil.example"},
    }

    def check(case: Any) -> None:
        for what, headers in attempts.items():
            response = _send(case, api, headers)
            assert response.status_code == 403, f"{what}: {response.status_code} {case.as_curl_command()}"

    _for_cases(schema[path][method].as_strategy(), 3, check)


def test_the_sessions_used_above_are_valid(api: Api, sessions: dict[str, Session]) -> None:
    """The refusals above come from the role and CSRF checks, not from dead sessions."""
    for role, session in sessions.items():
        me = requests.get(f"{api.base_url}/api/me", headers=session.headers(), timeout=10)
        assert me.status_code == 200 and me.json()["role"] == role
    own = requests.get(
        f"{api.base_url}/api/agents/{AGENT_ID}/current", headers=sessions["agent"].headers(), timeout=10
    )
    assert own.status_code == 200, own.text


# -- 3. bounded answers ------------------------------------------------------------------------------

LISTS = [
    (m, p, op)
    for m, p, op in OPERATIONS
    if m == "GET" and any(param.get("name") == "limit" for param in op.get("parameters", []))
]


@pytest.mark.parametrize("operation", LISTS, ids=_label)
def test_lists_cap_their_limit_and_stay_small(api: Api, operation: tuple[str, str, Any]) -> None:
    _, path, op = operation
    limit = next(p for p in op["parameters"] if p.get("name") == "limit")["schema"]
    for huge in (10**9, limit["maximum"] + 1):
        answer = requests.get(f"{api.base_url}{path}?limit={huge}", headers=api.bearer, timeout=10)
        assert answer.status_code in (400, 422), f"limit={huge}: {answer.status_code}"
    largest = requests.get(f"{api.base_url}{path}?limit={limit['maximum']}", headers=api.bearer, timeout=30)
    assert largest.status_code == 200
    assert len(largest.content) <= MAX_BODY
    if path == "/api/calls":
        assert len(largest.json()) == limit["maximum"]  # the seeded calls fill the largest page


def test_every_list_without_limit_stays_small(api: Api) -> None:
    for method, path, op in OPERATIONS:
        if method != "GET" or "{" in path or (method, path) in NOT_FUZZED or (method, path, op) in LISTS:
            continue
        answer = requests.get(f"{api.base_url}{path}", headers=api.bearer, timeout=30)
        assert answer.status_code < 500
        assert len(answer.content) <= MAX_BODY, f"{path}: {len(answer.content)} bytes"


def test_the_csv_export_is_streamed(api: Api) -> None:
    answer = requests.get(
        f"{api.base_url}/api/report/export.csv", headers=api.bearer, timeout=30, stream=True
    )
    assert answer.status_code == 200
    assert answer.headers.get("Transfer-Encoding") == "chunked" and "Content-Length" not in answer.headers
    lines = answer.text.splitlines()
    assert len(lines) == SEEDED_CALLS + 1  # the header row and every seeded call


# -- 1 (last: it changes state). every answer as described, never a 5xx -----------------------


@pytest.mark.parametrize("operation", [o for o in OPERATIONS if (o[0], o[1]) not in NOT_FUZZED], ids=_label)
def test_every_operation_answers_as_described(api: Api, schema: Any, operation: tuple[str, str, Any]) -> None:
    method, path, _ = operation
    # /logout ends the session it is sent with: a session of its own
    headers = _sign_in(api, "admin", ADMIN_PASSWORD).headers() if path == "/logout" else api.bearer

    def check(case: Any) -> None:
        response = _send(case, api, headers)
        assert len(response.content) <= MAX_BODY, (
            f"{len(response.content)} bytes from {case.as_curl_command()}"
        )
        case.validate_response(response, checks=CHECKS)

    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if _has_invalid_input(operation) else [])
    for mode in modes:
        strategy = schema[path][method].as_strategy(generation_mode=mode)
        _for_cases(
            strategy,
            SLOW_EXAMPLES.get(_label(operation), EXAMPLES[mode]),
            check,
            may_be_impossible=mode is GenerationMode.NEGATIVE,
        )


def _has_invalid_input(operation: tuple[str, str, Any]) -> bool:
    """Whether schemathesis can make an invalid request: a body, a query parameter or a constrained path
    parameter (a plain string in the path has no invalid value; hypothesis would search in vain)."""
    op = operation[2]
    params = [
        DOCUMENT["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
        for p in op.get("parameters", [])
    ]
    plain = {"type": "string"}
    return "requestBody" in op or any(p["in"] != "path" or p["schema"] != plain for p in params)


HOSTILE_PATH_VALUES = (
    "%C2%B2",  # ² : a digit to str.isdigit, not to int
    "%D9%A3",  # ٣ : an Arabic-Indic digit
    "9" * 30,
    "1" * 5000,
    "%00",
    "..%2F..%2Fetc%2Fpasswd",
    "%F0%9F%98%80",
    "%27%3B--",
)


@pytest.mark.parametrize("operation", [o for o in OPERATIONS if "{" in o[1]], ids=_label)
def test_hostile_path_values_never_cause_a_server_error(api: Api, operation: tuple[str, str, Any]) -> None:
    """What the schema's types keep hypothesis from trying in a path: odd digits, huge numbers, NUL —
    in one parameter at a time, the others real (so the odd one is what the handler looks at)."""
    method, path, _ = operation
    body: dict[str, Any] | None = {} if method in UNSAFE else None
    for name in re.findall(r"{(\w+)}", path):
        for value in HOSTILE_PATH_VALUES:
            values = PATH_VALUES | {"agent_id": AGENT_ID, name: value}
            url = api.base_url + path.format(**values)
            answer = requests.request(
                method, url, json=body, headers=api.bearer, timeout=15, allow_redirects=False
            )
            assert answer.status_code < 500, f"{method} {url}: {answer.status_code} {answer.text[:200]}"


def test_the_served_description_is_the_packaged_one(api: Api) -> None:
    answer = requests.get(f"{api.base_url}/api/openapi.json", headers=api.bearer, timeout=10)
    assert answer.status_code == 200
    assert answer.json() == DOCUMENT
