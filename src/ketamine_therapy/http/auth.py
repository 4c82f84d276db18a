"""Who is asking: a bearer token (API clients) or the session cookie (the web pages), both server-side sessions.

Cookie-authenticated requests that change something must carry the session's CSRF token (header
``X-CSRF-Token`` or form field ``csrf_token``); bearer-token requests need none (browsers never send them on
their own). Sessions end after the configured idle time (automatic logoff) and after 12 hours.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..services.accounts.errors import SessionExpiredError
from ..services.accounts.login_sessions import resolve_login_session
from ..services.authorization import Actor
from .context import AppContext, client_address, context

COOKIE = "kt_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
bearer = HTTPBearer(auto_error=False, description="a token from POST /api/v1/auth/token")


class CsrfError(PermissionError):
    """A cookie-authenticated change without the session's CSRF token (``actor``: the cookie's user)."""

    def __init__(self, message: str, actor: Actor) -> None:
        super().__init__(message)
        self.actor = actor


@dataclass(frozen=True)
class Caller:
    """The authenticated actor, the session's CSRF token and whether it came by cookie."""

    actor: Actor
    csrf_token: str
    by_cookie: bool


def _token(request: Request, credentials: HTTPAuthorizationCredentials | None) -> tuple[str, bool]:
    if credentials is not None and credentials.scheme.lower() == "bearer":
        return credentials.credentials, False
    return request.cookies.get(COOKIE, ""), True


def request_token(request: Request) -> str:
    """The login-session token of a request: the bearer token, else the session cookie (``""``: none)."""
    header = request.headers.get("authorization", "")
    return header.split(" ", 1)[1] if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")


def check_csrf(request: Request, caller: Caller, form_token: str | None = None) -> None:
    """Refuse a cookie-authenticated change without the right CSRF token."""
    if not caller.by_cookie or request.method in SAFE_METHODS:
        return
    sent = form_token or request.headers.get("x-csrf-token", "")
    if not hmac.compare_digest(sent.encode(), caller.csrf_token.encode()):
        raise CsrfError("missing or wrong CSRF token: reload the page and try again", caller.actor)


def caller(
    request: Request,
    ctx: Annotated[AppContext, Depends(context)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """Resolve the session of the request (raises :class:`SessionExpiredError` when there is none)."""
    token, by_cookie = _token(request, credentials)
    if not token:
        raise SessionExpiredError()
    idle = timedelta(minutes=ctx.settings.idle_minutes)
    actor, csrf = resolve_login_session(ctx.new_uow(), token, client_address(request), idle=idle)
    return Caller(actor, csrf, by_cookie)


def api_actor(request: Request, who: Annotated[Caller, Depends(caller)]) -> Actor:
    """The actor of an API request; cookie-authenticated changes need the CSRF header."""
    check_csrf(request, who)
    return who.actor


ActorDep = Annotated[Actor, Depends(api_actor)]
ContextDep = Annotated[AppContext, Depends(context)]
