"""The clinic's day: its sessions, the REMS forms due or overdue and the recent safety flags."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from ..services.authorization import Permission
from ..services.dashboard import dashboard
from .base import CallerDep, ContextDep
from .display import clinic_today, render_page
from .forms import parse_date

router = APIRouter()

DASHBOARD_REMS_ROWS = 10


@router.get("/", response_model=None)
def dashboard_page(request: Request, who: CallerDep, ctx: ContextDep, day: str = "") -> Response:
    """The clinic's day: sessions, REMS forms due or overdue, and safety flags of the last 14 days."""
    actor = who.actor
    if not actor.can(Permission.PATIENT_READ) and actor.can(Permission.RESEARCH_RUN):
        return RedirectResponse("/research", status_code=303)
    _, today, fmt = clinic_today(ctx)
    chosen = parse_date(day, "day") if day else today
    board = dashboard(ctx.new_uow(), actor, chosen)
    sessions = sorted(board.sessions, key=lambda pair: pair[0].session.scheduled_at)
    rems = sorted(board.rems_open, key=lambda pair: (pair[0].status != "overdue", pair[0].due))
    return render_page(request, "dashboard.html", who, board=board, sessions=sessions, rems=rems, day=chosen,
                       clinic_today=today, prev_day=chosen - timedelta(days=1), next_day=chosen + timedelta(days=1),
                       fmt=fmt, rems_shown=DASHBOARD_REMS_ROWS)  # fmt: skip
