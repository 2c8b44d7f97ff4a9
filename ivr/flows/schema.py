"""The flow file format as JSON Schema, composed from each verb's own fragment."""

from __future__ import annotations

import json
from typing import Any

from ivr.flows.verbs import VERBS

COMMON_NODE_PROPS: dict[str, Any] = {
    "type": {"enum": sorted(VERBS), "description": "the verb this node runs"},
    "description": {"type": "string"},
}

LANG_PATTERN = "^[a-z]{2}$"


def verb_schema(name: str) -> dict[str, Any]:
    cls = VERBS[name]
    return {
        "type": "object",
        "description": cls.description,
        "additionalProperties": False,
        "required": ["type", *cls.required],
        "properties": {**COMMON_NODE_PROPS, **cls.schema, "type": {"const": name}},
    }


def flow_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {f"verb_{name}": verb_schema(name) for name in sorted(VERBS)}
    defs["prompt"] = {
        "description": "text for all languages, {ja: …, en: …}, or {file: asterisk-sound-name}",
        "type": ["string", "object"],
        "minProperties": 1,
        "properties": {"file": {"type": "string"}},
        "patternProperties": {LANG_PATTERN: {"type": "string"}},
        "additionalProperties": False,
    }
    defs["words"] = {
        "description": "spoken words that pick this option: "
        "a list for all languages or {ja: [...], en: [...]}",
        "type": ["array", "string", "object"],
        "items": {"type": "string"},
        "patternProperties": {LANG_PATTERN: {"type": ["array", "string"], "items": {"type": "string"}}},
        "additionalProperties": False,
    }
    defs["node"] = {
        "type": "object",
        "required": ["type"],
        "properties": {"type": COMMON_NODE_PROPS["type"]},
        "allOf": [
            {
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": {"$ref": f"#/$defs/verb_{name}"},
            }
            for name in sorted(VERBS)
        ],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.invalid/ivr/flow.schema.json",
        "title": "IVR call flow",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "entry", "nodes"],
        "properties": {
            "name": {"type": "string", "pattern": r"^[A-Za-z0-9_\-]+$"},
            "description": {"type": "string"},
            "languages": {
                "type": "array",
                "items": {"type": "string", "pattern": LANG_PATTERN},
                "minItems": 1,
            },
            "default_language": {"type": "string", "pattern": LANG_PATTERN},
            "numbers": {"type": "array", "items": {"type": ["string", "integer"]}},
            "vars": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
            "entry": {"type": "string", "description": "id of the first node"},
            "nodes": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_\-]*$"},
                "additionalProperties": {"$ref": "#/$defs/node"},
            },
        },
        "$defs": defs,
    }


def schema_json() -> str:
    return json.dumps(flow_schema(), ensure_ascii=False, indent=2)
