"""One check of every text a request carries (path, query, JSON or form body), before any route sees it.

Text with a control character other than tab and line breaks (U+0000 above all: PostgreSQL cannot store it) or
an unpaired surrogate (not encodable as UTF-8) is refused with a 422 problem naming the field. Other checks of
the values are the routes' (pydantic models) and the domain's.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from .middleware import HttpMiddleware
from .problems import Problem, answer

FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""Control characters except tab, LF and CR; DEL; unpaired surrogates."""
ALLOWED = "text without control characters (tab and line breaks are allowed)"
CHECKED_BODIES = ("application/json", "application/x-www-form-urlencoded")


def _strings(value: object, where: str) -> Iterator[tuple[str, str]]:
    """Every string in a parsed JSON document (keys too), with its dotted location."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            yield inner, str(key)
            yield from _strings(item, inner)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}.{i}" if where else str(i))


def _pairs(raw: str) -> Iterator[tuple[str, str]]:
    for key, value in parse_qsl(raw, keep_blank_values=True, errors="surrogateescape"):
        yield key, key
        yield key, value


def first_bad_text(path: str, query: str, content_type: str, body: bytes) -> str | None:
    """The location of the first text with a forbidden character (``None``: all text is clean)."""
    candidates: list[tuple[str, str]] = [("path", path), *_pairs(query)]
    if content_type.startswith("application/json") and body:
        with contextlib.suppress(ValueError):  # not JSON: the route's validation answers
            candidates += _strings(json.loads(body), "")
    elif content_type.startswith("application/x-www-form-urlencoded"):
        candidates += _pairs(body.decode("latin-1"))
    return next((where or "body" for where, text in candidates if FORBIDDEN.search(text)), None)


class InputGuardMiddleware(HttpMiddleware):
    """Refuse a request whose text holds a control character or an unpaired surrogate (422, field named)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        body = b""
        messages: list[Message] = []
        if content_type.startswith(CHECKED_BODIES):
            more = True
            while more:
                message = await receive()
                messages.append(message)
                body += message.get("body", b"")
                more = message.get("more_body", False) and message["type"] == "http.request"
        query = scope.get("query_string", b"").decode("latin-1")
        bad = first_bad_text(scope.get("path", ""), query, content_type, body)
        if bad is not None:
            problem = Problem(422, "invalid-input", "Invalid input", f"{bad}: contains a control character",
                              {"field": bad, "allowed": ALLOWED})  # fmt: skip
            await answer(Request(scope), problem, self.render_page)(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
