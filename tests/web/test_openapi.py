"""The OpenAPI description: well formed, and in step with the route policy (routes ↔ policy ↔ spec)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from ivr.web.openapi import add_openapi_routes, openapi_document
from ivr.web.policy import RULES, Rule
from tests.web.conftest import AUTH, start_client

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
NOT_DESCRIBED = {"/login", "/static/{path}"}
"""Sign-in form and static files: not part of the REST API."""


def described_routes(rules: dict[tuple[str, str], Rule]) -> dict[tuple[str, str], Rule]:
    return {key: rule for key, rule in rules.items() if not rule.page and key[1] not in NOT_DESCRIBED}


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


@pytest.fixture
def document() -> dict[str, Any]:
    return openapi_document()


def test_the_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    assert {"title", "version"} <= set(document["info"])
    assert {"bearer", "session", "csrf"} <= set(document["components"]["securitySchemes"])
    for schema in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    def refs(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    found = list(refs(document))
    assert found
    for ref in found:
        assert ref.startswith("#/"), ref
        node: Any = document
        for part in ref[2:].split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]


def test_every_operation_is_well_formed(document: dict[str, Any]) -> None:
    ids = []
    for method, path, op in operations(document):
        where = f"{method} {path}"
        ids.append(op["operationId"])
        assert op["responses"], where
        assert all(re.fullmatch(r"[1-5][0-9][0-9]", code) for code in op["responses"]), where
        path_params = set(re.findall(r"{(\w+)}", path))
        declared = set()
        for param in op.get("parameters", []):
            if "$ref" in param:
                param = document["components"]["parameters"][param["$ref"].rsplit("/", 1)[1]]
            assert param["in"] in ("path", "query", "header", "cookie"), where
            if param["in"] == "path":
                assert param["required"] is True, where
                declared.add(param["name"])
        assert declared == path_params, f"{where}: path parameters {declared} != {path_params}"
        if method in ("POST", "PUT") and "requestBody" in op:
            assert "application/json" in op["requestBody"]["content"], where
    assert len(ids) == len(set(ids)), "operationId must be unique"


def test_every_api_route_of_the_policy_is_described(document: dict[str, Any]) -> None:
    described = {(method, path) for method, path, _ in operations(document)}
    missing = sorted(set(described_routes(RULES)) - described)
    assert not missing, f"routes in RULES without an OpenAPI operation: {missing}"


def test_every_described_operation_has_a_policy_rule(document: dict[str, Any]) -> None:
    routes = described_routes(RULES)
    extra = sorted((m, p) for m, p, _ in operations(document) if (m, p) not in routes)
    assert not extra, f"OpenAPI operations without a rule in RULES: {extra}"


def test_roles_and_ownership_follow_the_policy(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        rule = RULES[(method, path)]
        where = f"{method} {path}"
        assert sorted(op["x-roles"]) == sorted(rule.roles), where
        assert op.get("x-own") == rule.own, where
        public = op.get("security") == []
        assert public == rule.public, f"{where}: security [] exactly when the rule is public"
        if not rule.public:
            assert "401" in op["responses"], where
            if rule.roles != frozenset({"admin", "supervisor", "agent"}) or rule.own:
                assert "403" in op["responses"], where


def test_errors_use_the_one_error_shape(document: dict[str, Any]) -> None:
    responses = document["components"]["responses"]
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    for method, path, op in operations(document):
        for code, response in op["responses"].items():
            if int(code) < 400:
                continue
            if "$ref" in response:
                response = responses[response["$ref"].rsplit("/", 1)[1]]
            schema = response["content"]["application/json"]["schema"]
            text = repr(schema)
            assert "#/components/schemas/Error" in text, f"{method} {path} {code}"


def validator(document: dict[str, Any], name: str) -> jsonschema.Draft202012Validator:
    """A validator for one component schema, its ``$ref``s resolved inside the document."""
    return jsonschema.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


async def test_the_health_answer_fits_its_schema(
    document: dict[str, Any], client: TestClient[web.Request, web.Application]
) -> None:
    response = await client.get("/healthz")
    validator(document, "Health").validate(await response.json())


async def test_an_error_answer_fits_the_error_schema(
    document: dict[str, Any], client: TestClient[web.Request, web.Application]
) -> None:
    response = await client.get("/api/calls?limit=0", headers=AUTH)
    assert response.status in (400, 422)
    body = await response.json()
    validator(document, "Error").validate(body)
    with pytest.raises(jsonschema.ValidationError):
        validator(document, "Error").validate({"message": "no error field"})


async def test_served_as_json() -> None:
    app = web.Application()
    add_openapi_routes(app)
    client = await start_client(app)
    try:
        response = await client.get("/api/openapi.json")
        assert response.status == 200
        assert response.content_type == "application/json"
        assert await response.json() == openapi_document()
    finally:
        await client.close()


def test_a_wallboard_snapshot_fits_its_schema(document: dict[str, Any]) -> None:
    from acd.agents import AgentState, AgentStatus
    from tests.acd.test_wallboard import at, build, caller

    agents = [
        AgentStatus("2102", AgentState.ON_CALL, at(40), current_call="call-7", registered=True),
        AgentStatus("2101", AgentState.PAUSED, at(70), reason="lunch"),
    ]
    live = [
        {
            "id": "call-7",
            "caller": {"number": "0312345678", "name": "<b>x</b>"},
            "flow": "shop",
            "node": "q_returns",
            "started_at": "2026-01-05T03:00:00Z",
            "queue": "returns",
        },
    ]
    snapshot = build(agents=agents, callers={"call-7": caller("call-7", "returns", "2102")}, live_calls=live)
    validator(document, "Wallboard").validate(snapshot)
    assert {q["level"] for q in snapshot["queues"]} <= {"ok", "warn", "bad", None}


async def test_a_whole_call_record_fits_its_schema(document: dict[str, Any], store: Any) -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)

    def at(s: float) -> datetime:
        return t0 + timedelta(seconds=s)

    await store.call_started("c1", "ch1", "0312345678", "<script>x</script>", "0120", "shop", at(0))
    await store.call_answered("c1", at(0.1))
    await store.node_entered("c1", "main_menu", at(1))
    await store.input_taken("c1", "main_menu", "dtmf", "1", False, at(2))
    await store.input_taken("c1", "card", "dtmf", "************1111", True, at(3))  # masked by the session
    await store.queue_entered("c1", "orders", at(4))
    await store.offer_started("c1", "2101", at(5))
    await store.offer_answered("c1", "2101", at(9))
    await store.recording_started("c1", "2026-12-01/c1-1", "2026-12-01/c1-1.wav", at(9))
    await store.recording_paused("2026-12-01/c1-1", "operator", "op2101", at(12))
    await store.recording_resumed("2026-12-01/c1-1", at(20))
    await store.survey_answered("c1", 5, at(60), question="csat")
    await store.call_ended("c1", at(61), "completed", "normal")
    record = await store.get_call("c1")
    validator(document, "Call").validate(record)
    assert record["recordings"][0]["pauses"][0]["reason"] == "operator"
