"""The app's outermost layer, around every response, a 500 included.

- Security headers (a same-origin CSP without inline scripts, framing refused, no referrer, no caching) on every
  response, and HSTS when the request came over TLS (directly, or per a trusted proxy's ``X-Forwarded-Proto``).
- An unexpected error becomes a 500 problem (JSON under ``/api``, a page elsewhere). Its log line names the
  exception type and the route template only: an exception's message can carry patient data (a database error's
  detail names the offending values), so it is never logged.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import PageRenderer, Problem, problem_response

logger = logging.getLogger("ketamine_therapy.errors")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # questionnaire links carry a token in the path
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "Cache-Control": "no-store",
}
HSTS = "max-age=31536000; includeSubDomains"
"""Sent on responses to requests that came over TLS (one year; browsers then refuse plain HTTP to this host)."""

SERVER_ERROR = Problem(500, "server-error", "Internal error", "an unexpected error occurred; it was logged without its "
                       "details for the administrator")  # fmt: skip


class HttpMiddleware(ABC):
    """An ASGI middleware of HTTP requests (other scopes, e.g. lifespan, pass through) that can answer a problem
    as JSON under ``/api`` or as the page ``render_page`` draws."""

    def __init__(self, app: ASGIApp, render_page: PageRenderer) -> None:
        self.app = app
        self.render_page = render_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    @abstractmethod
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Process one HTTP request."""


class EdgeMiddleware(HttpMiddleware):
    """Security headers on every response and unexpected errors as a logged 500 (type only)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if scope.get("scheme") == "https":
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        try:
            await self.app(scope, receive, send_secured)
        except Exception as exc:
            route = getattr(scope.get("route"), "path", "?")  # the template: a path may hold a link's token
            # the type only, no traceback: an exception's message may hold patient data
            logger.error("unexpected %s on %s %s", type(exc).__name__, scope.get("method"), route)
            if not started:
                await self._server_error(scope)(scope, receive, send_secured)

    def _server_error(self, scope: Scope) -> Response:
        if scope.get("path", "").startswith("/api/"):
            return problem_response(SERVER_ERROR)
        try:
            return self.render_page(Request(scope), SERVER_ERROR)
        except Exception:  # the error page itself failed (e.g. the database is down): plain text
            return PlainTextResponse(SERVER_ERROR.detail, status_code=500)
