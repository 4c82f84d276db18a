"""Logging in and out of the web pages: the session token travels in the ``kt_session`` cookie (HttpOnly,
SameSite=Strict, Secure unless the settings say otherwise); the server ends idle sessions (automatic logoff).

The login form itself is protected against cross-site posts (login CSRF) by a double-submit token: the form
page sets a random ``kt_login`` cookie (SameSite=Strict) and the same value in a hidden field; a post whose
two values differ is refused.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..clinic.exceptions import InvalidAnswerError
from ..http.auth import COOKIE, caller
from ..http.context import client_address
from ..services.accounts.errors import AccountLockedError, AuthenticationError, RateLimitedError, SessionExpiredError
from ..services.accounts.login import log_in
from ..services.accounts.login_sessions import end_login_session
from ..services.accounts.users import change_password
from .base import CallerDep, ContextDep, form_actor, render
from .forms import FormDep, error_values, field_text

router = APIRouter()

MAX_NEXT_LENGTH = 2000


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site (never another host: no open redirect), else ``/``."""
    if not target or len(target) > MAX_NEXT_LENGTH or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or any(ord(c) < 32 for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return "/"
    return target


LOGIN_COOKIE = "kt_login"


def _login_page(request: Request, next_url: str, *, error: str = "", username: str = "", status_code: int = 200,
                expired: bool = False, changed: bool = False) -> HTMLResponse:  # fmt: skip
    token = secrets.token_urlsafe(16)
    page = render(request, "login.html", None, status_code, next_url=next_url, error=error, username=username,
                  expired=expired, changed=changed, login_token=token)  # fmt: skip
    secure = request.app.state.context.settings.cookie_secure
    page.set_cookie(LOGIN_COOKIE, token, max_age=3600, path="/login", httponly=True, samesite="strict", secure=secure)
    return page


@router.get("/login")
def login_form(request: Request, next: str = "/", expired: bool = False, changed: bool = False) -> HTMLResponse:
    """The login form; ``next`` is where to go after logging in (a local path)."""
    return _login_page(request, safe_next(next), expired=expired, changed=changed)


@router.post("/login", response_model=None)
def login_submit(
    request: Request,
    ctx: ContextDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=MAX_NEXT_LENGTH)] = "/",
    login_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Check the credentials (rate-limited per source, audited) and start a session in the cookie."""
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), login_token.encode()):
        stale = "This login form has expired or did not come from this site. Please log in again."
        return _login_page(request, target, username=username, status_code=403, error=stale)
    try:
        token, _ = log_in(ctx.new_uow, ctx.limiter, username, password, client_address(request),
                          idle=timedelta(minutes=ctx.settings.idle_minutes))  # fmt: skip
    except RateLimitedError as exc:
        wait = exc.retry_after_seconds
        page = _login_page(request, target, username=username, status_code=429,
                           error=f"Too many login attempts from this device. Try again in {wait} s.")  # fmt: skip
        page.headers["Retry-After"] = str(exc.retry_after_seconds)
        return page
    except AccountLockedError as exc:
        until = exc.locked_until.strftime("%H:%M UTC")
        return _login_page(request, target, username=username, status_code=423,
                           error=f"This account is locked after too many failed logins. Try again after {until}, "
                           "or ask an administrator to reset the password.")  # fmt: skip
    except AuthenticationError:
        return _login_page(request, target, username=username, status_code=401,
                           error="Invalid username or password.")  # fmt: skip
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(LOGIN_COOKIE, path="/login", secure=ctx.settings.cookie_secure, httponly=True,
                           samesite="strict")  # fmt: skip
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=ctx.settings.cookie_secure, path="/")
    return response


@router.post("/logout", response_model=None)
def logout(request: Request, ctx: ContextDep, form: FormDep) -> Response:
    """End the session (CSRF-checked) and forget the cookie."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=ctx.settings.cookie_secure, httponly=True, samesite="strict")
    try:
        who = caller(request, ctx, None)
    except SessionExpiredError:
        return response  # already logged out
    form_actor(request, who, form)
    end_login_session(ctx.new_uow(), request.cookies.get(COOKIE, ""), client_address(request))
    return response


@router.get("/logout")
def logout_get() -> RedirectResponse:
    """Logging out needs a form post (CSRF-checked); a plain visit just goes to the login page."""
    return RedirectResponse("/login", status_code=303)


@router.get("/account/password")
def password_form(request: Request, who: CallerDep) -> HTMLResponse:
    """The form to change one's own password."""
    return render(request, "password.html", who, error=None)


@router.post("/account/password", response_model=None)
def password_submit(request: Request, who: CallerDep, ctx: ContextDep, form: FormDep) -> Response:
    """Change one's own password; every session of the user ends, so the next step is the login page."""
    actor = form_actor(request, who, form)
    new = field_text(form, "new_password")
    try:
        if new != field_text(form, "confirm_password"):
            raise InvalidAnswerError("confirm_password", "does not match the new password", "the same password twice")
        change_password(ctx.new_uow(), actor, field_text(form, "current_password"), new)
    except InvalidAnswerError as exc:
        return render(request, "password.html", who, 422, error=error_values(exc))
    response = RedirectResponse("/login?changed=1", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=ctx.settings.cookie_secure, httponly=True, samesite="strict")
    return response
