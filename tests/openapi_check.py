"""Request bodies checked against OpenAI's published OpenAPI description.

``tests/openai_request_schemas.json`` holds the schemas reachable from
``CreateChatCompletionRequest`` and ``CreateResponse`` in openai/openai-openapi's ``openapi.json``
(MIT licence, August 2026), vendored so a fresh clone needs nothing else. OpenAPI's ``oneOf`` is
read as ``anyOf`` (an input message fits two branches), refs point into ``$defs``; draft 2020-12.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

SCHEMAS = Path(__file__).with_name("openai_request_schemas.json")


def _as_json_schema(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                out[key] = "#/$defs/" + value.rsplit("/", 1)[-1]
            else:
                out["anyOf" if key == "oneOf" else key] = _as_json_schema(value)
        return out
    if isinstance(node, list):
        return [_as_json_schema(v) for v in node]
    return node


@functools.cache
def validator(schema: str) -> jsonschema.Draft202012Validator:
    """A validator for one request schema (``CreateChatCompletionRequest``, ``CreateResponse``)."""
    defs = _as_json_schema(json.loads(SCHEMAS.read_text(encoding="utf-8"))["schemas"])
    return jsonschema.Draft202012Validator({"$defs": defs, "$ref": f"#/$defs/{schema}"})


def violations(body: Any, schema: str = "CreateChatCompletionRequest") -> list[str]:
    """``path: message`` for each way ``body`` breaks the published schema ([] when it fits)."""
    found = []
    for err in sorted(validator(schema).iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        where = ".".join(str(p) for p in err.absolute_path) or "(body)"
        found.append(f"{where}: {err.message[:200]}")
    return found
