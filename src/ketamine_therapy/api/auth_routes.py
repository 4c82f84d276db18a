"""Logging in and out of the API: bearer tokens are server-side sessions (idle logoff, 12 h lifetime)."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from ..http.auth import ActorDep, ContextDep, request_token
from ..http.context import client_address
from ..services.accounts.login import log_in
from ..services.accounts.login_sessions import end_login_session
from ..services.accounts.users import change_password
from ..services.authorization import PERMISSIONS

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


@router.post("/token", status_code=status.HTTP_201_CREATED)
def create_token(credentials: Credentials, ctx: ContextDep, request: Request) -> TokenOut:
    """Log in; failed logins are counted and audited, and lock the account after 5 in a row."""
    token, csrf = log_in(ctx.new_uow, ctx.limiter, credentials.username, credentials.password,
                         client_address(request), idle=timedelta(minutes=ctx.settings.idle_minutes))  # fmt: skip
    return TokenOut(access_token=token, idle_timeout_s=ctx.settings.idle_minutes * 60, csrf_token=csrf)


@router.delete("/token", status_code=status.HTTP_204_NO_CONTENT)
def delete_token(actor: ActorDep, ctx: ContextDep, request: Request) -> Response:
    """Log out (end this session)."""
    end_login_session(ctx.new_uow(), request_token(request), client_address(request))
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
