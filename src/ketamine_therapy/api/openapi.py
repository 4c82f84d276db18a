"""The OpenAPI document declares the errors as they are sent: ``application/problem+json`` (RFC 9457) with the
statuses each operation can answer (schemathesis checks the answers against it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..http.problems import PROBLEM

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A problem (RFC 9457); bad input names the field and what is allowed.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "/problems/<slug>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": ["string", "null"], "description": "the offending input, e.g. arms[0].drug"},
        "allowed": {"type": ["string", "null"], "description": "what would be accepted"},
    },
    "additionalProperties": True,
}
COMMON = {
    400: "the body is not parseable (not JSON, or not the declared encoding)",
    401: "not logged in, or the session ended",
    403: "the role may not do this (audited)",
    404: "no such record",
    409: "not allowed in the record's state, or not configured on this server",
    413: "the body is larger than the server accepts (1 MB)",
    422: "invalid input: the field and the allowed values are named",
    500: "unexpected error (logged without details)",
}
VERSIONED = {412: "the If-Match version is not the current one: reload", 428: "If-Match is required"}
LOGIN = {423: "account locked after failed logins", 429: "too many attempts from this address (Retry-After)"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _repair(node: object) -> None:
    """Make pydantic's schemas valid OpenAPI 3.1, true to the wire and checkable by the test tools:
    ``format: time`` -> ``partial-time`` (the clinic's local times carry no UTC offset, which JSON Schema's ``time``
    requires); a tuple (``prefixItems``, or ``items: [...]``) -> ``items: {anyOf: [...]}`` with its fixed length and
    the positions in the description, because schemathesis' response validator rejects ``prefixItems``."""
    if isinstance(node, dict):
        if node.get("format") == "time":
            node["format"] = "partial-time"
        positions = node.pop("prefixItems", None)
        if positions is None and isinstance(node.get("items"), list):
            positions = node.pop("items")
        if positions is not None:
            node["items"] = {"anyOf": positions}
            node["minItems"] = node["maxItems"] = len(positions)
            order = ", ".join(str(p.get("title") or p.get("format") or p.get("type", "value")) for p in positions)
            node["description"] = f"{node.get('description', '')} (in this order: {order})".strip()
        for value in node.values():
            _repair(value)
    elif isinstance(node, list):
        for value in node:
            _repair(value)


def declare_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the Problem component and every operation's error responses (replacing FastAPI's 422)."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            statuses = dict(COMMON)
            headers = {p["name"].lower() for p in operation.get("parameters", []) if p.get("in") == "header"}
            if "if-match" in headers:
                statuses |= VERSIONED
            if path.endswith("/auth/token") and method == "post":
                statuses |= LOGIN
            for status, description in statuses.items():
                responses[str(status)] = _problem(description)
    _repair(schema)
    return schema


def with_problems(build: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """An ``app.openapi`` that builds the document once with :func:`declare_problems` applied."""
    cached: dict[str, Any] = {}

    def openapi() -> dict[str, Any]:
        if not cached:
            cached.update(declare_problems(build()))
        return cached

    return openapi
