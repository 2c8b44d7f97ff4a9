"""``lookup``: HTTP GET/POST to a templated URL; the JSON result lands in variables ``<into>.<key>``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ivr.flows.commands import HttpLookup
from ivr.flows.events import Event, LookupDone
from ivr.flows.promptspec import render_template
from ivr.flows.verbs.base import (
    DEFAULT_ENV,
    NODE_REF,
    SECONDS,
    CheckEnv,
    Edge,
    Go,
    RelPath,
    Result,
    Verb,
    VerbCtx,
    optional_text,
)


def flatten(data: Any, prefix: str, out: dict[str, str]) -> None:
    """``{"a": {"b": 1}}`` under ``x`` → ``x.a.b = "1"``; lists by index."""
    if isinstance(data, Mapping):
        for k, v in data.items():
            flatten(v, f"{prefix}.{k}", out)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            flatten(v, f"{prefix}.{i}", out)
    elif data is None:
        out[prefix] = ""
    elif isinstance(data, bool):
        out[prefix] = "true" if data else "false"
    else:
        out[prefix] = str(data)


class Lookup(Verb):
    type_name = "lookup"
    description = "HTTP request; JSON result into `into.*` variables; `next` on success, `on_failure` else."
    schema: ClassVar[dict[str, Any]] = {
        "url": {"type": "string", "description": "template, e.g. {services.orders}/orders/{order_number}"},
        "method": {"enum": ["GET", "POST"]},
        "body": {"type": "object", "additionalProperties": {"type": "string"}},
        "timeout": SECONDS,
        "into": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
        "next": NODE_REF,
        "on_not_found": NODE_REF,
        "on_failure": NODE_REF,
    }
    required = ("url", "into", "next", "on_failure")

    def __init__(self, node_id: str, spec: Mapping[str, Any], env: CheckEnv = DEFAULT_ENV) -> None:
        super().__init__(node_id, spec, env)
        self.url = str(spec["url"])
        """Template of the URL."""
        self.method = str(spec.get("method", "GET"))
        body = spec.get("body")
        self.body = None if body is None else {str(k): str(v) for k, v in body.items()}
        """Templates of the JSON body's values (POST)."""
        self.timeout_s = float(spec.get("timeout", 3))
        self.into = str(spec["into"])
        self.ok_node = str(spec["next"])
        self.not_found_node = optional_text(spec, "on_not_found")
        self.failure_node = str(spec["on_failure"])

    def start(self, ctx: VerbCtx) -> Result:
        request_id = ctx.next_id(f"{self.node_id}-")
        ctx.local["request"] = request_id
        body = self.body
        rendered = None if body is None else {k: render_template(v, ctx.vars) for k, v in body.items()}
        url = render_template(self.url, ctx.vars)
        return Result([HttpLookup(request_id, self.method, url, rendered, self.timeout_s)])

    def on_event(self, ctx: VerbCtx, event: Event) -> Result:
        if not isinstance(event, LookupDone) or event.request_id != ctx.local.get("request"):
            return Result()
        prefix = self.into
        if event.ok and event.data is not None:
            for key in [k for k in ctx.vars if k.startswith(prefix + ".")]:
                del ctx.vars[key]
            flatten(event.data, prefix, ctx.vars)
            return Result(transition=Go(self.ok_node))
        ctx.vars[f"{prefix}.error"] = event.error or f"HTTP {event.status}"
        if event.status == 404 and self.not_found_node is not None:
            return Result(transition=Go(self.not_found_node))
        return Result(transition=Go(self.failure_node))

    def template_fields(self) -> list[tuple[RelPath, str]]:
        out = [(("url",), self.url)]
        return out + [(("body", k), v) for k, v in (self.body or {}).items()]

    def defined_vars(self) -> set[str]:
        return {self.into + "."}

    def targets(self) -> list[Edge]:
        return (
            self._edge("ok", "next")
            + self._edge("not found", "on_not_found")
            + self._edge("failure", "on_failure")
        )
