"""What every page needs: the template environment, the logged-in actor (or a redirect to the login page),
CSRF checks on forms, and rendering with the navigation allowed for the actor's role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from ..http.auth import COOKIE, Caller, caller, check_csrf
from ..http.context import AppContext, context
from ..services.authorization import Actor, Permission
from . import TEMPLATE_DIR

templates = Jinja2Templates(directory=TEMPLATE_DIR)

NAV: tuple[tuple[str, str, Permission], ...] = (
    ("/", "Today", Permission.PATIENT_READ),
    ("/patients", "Patients", Permission.PATIENT_READ),
    ("/rems", "REMS", Permission.REMS_READ),
    ("/research", "Research", Permission.RESEARCH_RUN),
    ("/admin/audit", "Audit log", Permission.AUDIT_READ),
    ("/admin/users", "Users", Permission.USER_ADMIN),
)
"""Navigation entries and the permission each needs (hidden otherwise; the services refuse anyway)."""


def page_caller(request: Request, ctx: Annotated[AppContext, Depends(context)]) -> Caller:
    """The logged-in caller of a page; :class:`SessionExpiredError` sends the browser to the login page."""
    return caller(request, ctx, None)


CallerDep = Annotated[Caller, Depends(page_caller)]
ContextDep = Annotated[AppContext, Depends(context)]


def form_actor(request: Request, who: Caller, form: Mapping[str, Any]) -> Actor:
    """The actor of a form post, after checking the form's CSRF token."""
    token = form.get("csrf_token")
    check_csrf(request, who, token if isinstance(token, str) else None)
    return who.actor


def render(request: Request, template: str, who: Caller | None, status_code: int = 200, **values: Any) -> HTMLResponse:
    """Render ``template`` with the layout's values: the actor, its navigation, CSRF token and today."""
    actor = who.actor if who else None
    nav = [(href, label) for href, label, perm in NAV if actor is not None and actor.can(perm)]
    return templates.TemplateResponse(
        request,
        template,
        {
            "actor": actor,
            "nav": nav,
            "csrf_token": who.csrf_token if who else "",
            "cookie_name": COOKIE,
            **values,
        },
        status_code=status_code,
    )
