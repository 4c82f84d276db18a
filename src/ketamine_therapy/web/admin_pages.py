"""Admin pages: the audit log and the logins (create, activate/deactivate, reset a password)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..clinic.exceptions import InvalidAnswerError
from ..services.accounts.users import create_user, list_users, reset_password, set_user_active
from ..services.audit import audit_entries
from ..services.authorization import Role
from ..services.ports import ConflictError
from .base import CallerDep, ContextDep, form_actor
from .display import clinic_today, page_links, render_page
from .forms import FormDep, error_values, field_text

router = APIRouter()

AUDIT_PAGE_SIZE = 100


@router.get("/admin/audit")
def audit_page(request: Request, who: CallerDep, ctx: ContextDep, page: int = 1,
               patient: uuid.UUID | None = None) -> HTMLResponse:  # fmt: skip
    """The audit log, newest first, 100 a page (optionally one patient's)."""
    page = max(1, page)
    entries = audit_entries(ctx.new_uow(), who.actor, limit=AUDIT_PAGE_SIZE + 1, offset=(page - 1) * AUDIT_PAGE_SIZE,
                            patient_id=patient)  # fmt: skip
    _, _, fmt = clinic_today(ctx)
    base = f"/admin/audit?patient={patient}" if patient else "/admin/audit"
    return render_page(request, "audit.html", who, entries=entries[:AUDIT_PAGE_SIZE], page=page, patient=patient,
                       pages=page_links(page, len(entries) > AUDIT_PAGE_SIZE, base), fmt=fmt)  # fmt: skip


STAFF_ROLES = tuple(r for r in Role if r is not Role.PATIENT)


def _users_page(request: Request, who: Any, ctx: Any, *, secret: dict[str, str] | None = None,
                error: dict[str, str | None] | None = None, values: Mapping[str, str] | None = None,
                status_code: int = 200) -> HTMLResponse:  # fmt: skip
    _, _, fmt = clinic_today(ctx)
    users = list_users(ctx.new_uow(), who.actor)
    now = ctx.clock().astimezone(fmt.tz)
    return render_page(request, "users.html", who, status_code, users=users, roles=STAFF_ROLES, secret=secret,
                       error=error, v=values or {}, fmt=fmt, now=now)  # fmt: skip


@router.get("/admin/users")
def users_page(request: Request, who: CallerDep, ctx: ContextDep) -> HTMLResponse:
    """Logins: create, activate/deactivate, reset a password."""
    return _users_page(request, who, ctx)


@router.post("/admin/users")
def user_create(request: Request, who: CallerDep, ctx: ContextDep, form: FormDep) -> HTMLResponse:
    """Create a login with a generated password, shown once on the page that answers."""
    actor = form_actor(request, who, form)
    values = {"username": field_text(form, "username").lower(), "role": field_text(form, "role")}
    try:
        if values["role"] == Role.PATIENT.value:
            allowed = ", ".join(r.value for r in STAFF_ROLES)
            raise InvalidAnswerError("role", "patients use questionnaire links, not logins", allowed)
        user, password = create_user(ctx.new_uow(), actor, values["username"], values["role"])
    except InvalidAnswerError as exc:
        return _users_page(request, who, ctx, error=error_values(exc), values=values, status_code=422)
    except ConflictError as exc:
        return _users_page(request, who, ctx, error={"field": "username", "message": str(exc), "allowed": None,
                                                     "text": str(exc)}, values=values, status_code=409)  # fmt: skip
    return _users_page(request, who, ctx, secret={"username": user.username, "password": password, "what": "created"})


@router.post("/admin/users/{username}/active", response_model=None)
def user_active(request: Request, who: CallerDep, ctx: ContextDep, username: str, form: FormDep) -> Response:
    """Activate or deactivate a login (a deactivated user's sessions end)."""
    actor = form_actor(request, who, form)
    set_user_active(ctx.new_uow(), actor, username, field_text(form, "active") == "1")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/password")
def user_reset_password(request: Request, who: CallerDep, ctx: ContextDep, username: str,
                        form: FormDep) -> HTMLResponse:  # fmt: skip
    """Give a login a new generated password, shown once."""
    actor = form_actor(request, who, form)
    password = reset_password(ctx.new_uow(), actor, username)
    return _users_page(request, who, ctx, secret={"username": username, "password": password, "what": "reset"})
