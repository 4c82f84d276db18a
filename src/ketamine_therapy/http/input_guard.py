"""One check of every request before any route sees it: its size and every text it carries (path, query, JSON or
form body).

A body larger than :data:`MAX_BODY_BYTES` is refused with a 413 problem before it is read further (by its declared
Content-Length, or while it streams), so a client cannot make the server hold an unbounded body in memory. Text
with a control character other than tab and line breaks (U+0000 above all: PostgreSQL cannot store it) or an
unpaired surrogate (not encodable as UTF-8) is refused with a 422 problem naming the field. Other checks of the
values are the routes' (pydantic models) and the domain's.
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
MAX_BODY_BYTES = 1_000_000
"""Largest request body accepted (bytes). The largest legitimate bodies, trial specifications and patient records,
are a few kilobytes; the product takes no file uploads."""


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
    """Refuse a request whose body is too large (413) or whose text holds a control character or an unpaired
    surrogate (422, field named)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        body = b""
        messages: list[Message] = []
        declared = headers.get(b"content-length", b"0").decode("latin-1")
        too_large = declared.isdigit() and int(declared) > MAX_BODY_BYTES
        more = not too_large
        while more:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            too_large = len(body) > MAX_BODY_BYTES
            more = message.get("more_body", False) and message["type"] == "http.request" and not too_large
        if too_large:
            problem = Problem(413, "too-large", "Request body too large",
                              f"body: more than {MAX_BODY_BYTES} bytes",
                              {"field": "body", "allowed": f"at most {MAX_BODY_BYTES} bytes"})  # fmt: skip
            await self._refuse(scope, receive, send, problem)
            return
        if not content_type.startswith(CHECKED_BODIES):
            content_type = ""
        query = scope.get("query_string", b"").decode("latin-1")
        bad = first_bad_text(scope.get("path", ""), query, content_type, body)
        if bad is not None:
            problem = Problem(422, "invalid-input", "Invalid input", f"{bad}: contains a control character",
                              {"field": bad, "allowed": ALLOWED})  # fmt: skip
            await self._refuse(scope, receive, send, problem)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, problem: Problem) -> None:
        """Answer with ``problem``: problem+json on the API, the error page on the web."""
        await answer(Request(scope), problem, self.render_page)(scope, receive, send)
