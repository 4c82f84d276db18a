"""Logging in and out of the API: bearer tokens are server-side sessions (idle logoff, 12 h lifetime)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from ..services.accounts import authenticate, change_password, end_session, start_session
from ..services.authorization import PERMISSIONS
from .auth import ActorDep, ContextDep
from .context import client_address

router = APIRouter(prefix="/auth", tags=["auth"])


class Credentials(BaseModel):
    """A username and password."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    """A bearer token (send as ``Authorization: Bearer <token>``) and the session's CSRF token."""

    access_token: str
    token_type: str = "bearer"
    idle_timeout_s: int
    csrf_token: str


class PasswordChange(BaseModel):
    """The current password and the new one (12-1024 characters)."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class MeOut(BaseModel):
    """Who is logged in and what the role may do."""

    username: str
    role: str
    permissions: list[str]


def login(ctx: ContextDep, request: Request, username: str, password: str) -> tuple[str, str]:
    """Rate-limit per source, authenticate, start a session: ``(token, csrf)`` (shared with the web login)."""
    source = client_address(request)
    now = datetime.now(UTC)
    ctx.limiter.check(source, now)
    ctx.limiter.record(source, now)
    actor = authenticate(ctx.new_uow(), username, password, source)
    return start_session(ctx.new_uow(), actor, idle=timedelta(minutes=ctx.settings.idle_minutes))


@router.post("/token", status_code=status.HTTP_201_CREATED)
def create_token(credentials: Credentials, ctx: ContextDep, request: Request) -> TokenOut:
    """Log in; failed logins are counted and audited, and lock the account after 5 in a row."""
    token, csrf = login(ctx, request, credentials.username, credentials.password)
    return TokenOut(access_token=token, idle_timeout_s=ctx.settings.idle_minutes * 60, csrf_token=csrf)


@router.delete("/token", status_code=status.HTTP_204_NO_CONTENT)
def delete_token(actor: ActorDep, ctx: ContextDep, request: Request) -> Response:
    """Log out (end this session)."""
    header = request.headers.get("authorization", "")
    token = header.split(" ", 1)[1] if header.lower().startswith("bearer ") else request.cookies.get("kt_session", "")
    end_session(ctx.new_uow(), token, client_address(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
def password(body: PasswordChange, actor: ActorDep, ctx: ContextDep) -> Response:
    """Change your own password. Every session of yours ends, this token too: log in again with the new one."""
    change_password(ctx.new_uow(), actor, body.current_password, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
def me(actor: ActorDep) -> MeOut:
    """The logged-in user and the permissions of its role."""
    return MeOut(username=actor.username, role=actor.role.value,
                 permissions=sorted(p.value for p in PERMISSIONS[actor.role]))  # fmt: skip
