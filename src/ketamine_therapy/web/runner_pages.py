"""The session runner: the chair-side screen a nurse uses on a tablet to run one treatment session.

One page, ``/sessions/{id}``, shows what the session's state asks for next (check-in with the clinic's
pre-checks, the documented BP decision, the dose, the infusion or device timer, monitoring and discharge) and,
beside it, quick entry of vitals, CADSS-6, MOAA/S and adverse events (posted with HTMX, which swaps only the
observations column). Every form carries the CSRF token and the session version it was rendered from; the
services check permissions, the clinic rules and the version (optimistic locking). Expected refusals (a bad
value, unmet criteria, a dose outside the limits, another nurse's change) re-render the runner with the message
next to the control, so the nurse never loses context; anything else goes to the problem page.

The server records each step at its own clock (:func:`request_time`, a dependency tests may override).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..clinic.sessions import Severity
from ..http.auth import Caller
from ..http.context import AppContext
from .base import CallerDep, ContextDep, form_actor, render
from .forms import TextFormDep
from .runner_forms import CONFLICT, EXPECTED_ERRORS, STEPS, FormError, form_error, form_version, parse_session_id
from .runner_view import MOAAS_LABELS, PREGNANCY_LABELS, Runner, describe_last_change, load_runner

router = APIRouter()


def request_time(ctx: ContextDep) -> datetime:
    """When the server handles a step (the clock port); tests override this dependency to move the clock."""
    return ctx.clock()


NowDep = Annotated[datetime, Depends(request_time)]


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _render(request: Request, who: Caller, runner: Runner, *, partial: bool = False, status_code: int = 200,
            error: FormError | None = None, values: Mapping[str, str] | None = None) -> HTMLResponse:  # fmt: skip
    template = "_session_obs.html" if partial else "session.html"
    return render(request, template, who, status_code=status_code, r=runner, error=error, values=values or {},
                  pregnancy_labels=PREGNANCY_LABELS, moaas_labels=MOAAS_LABELS, severities=list(Severity),
                  notice=request.query_params.get("notice", ""))  # fmt: skip


def _apply(request: Request, who: Caller, ctx: AppContext, raw_id: str, name: str, form: dict[str, str],
           now: datetime) -> Response:  # fmt: skip
    step, observation = STEPS[name]
    actor = form_actor(request, who, form)
    session_id = parse_session_id(raw_id)
    partial = observation and _is_htmx(request)
    try:
        step(ctx, actor, session_id, form_version(form), form, now)
    except EXPECTED_ERRORS as exc:
        error, status = form_error(name, exc)
        runner = load_runner(ctx, actor, session_id, now)
        if runner.record.version != form_version(form):  # refused because the session moved on since the form was shown
            error, status = FormError(name, CONFLICT, conflict=True), 409
        error = replace(error, message=runner.humanize(error.message), unmet=tuple(map(runner.humanize, error.unmet)))
        if error.conflict:
            runner.last_change = describe_last_change(ctx, actor, runner)
            if partial and form.get("state") != runner.state.value:  # the page around the column is stale too
                target = f"/sessions/{session_id}?notice=changed"
                return Response(status_code=status, headers={"HX-Redirect": target})
        kept = {k: v for k, v in form.items() if k not in ("csrf_token", "expected_version")}
        return _render(request, who, runner, partial=partial, status_code=status, error=error, values=kept)
    if partial:
        return _render(request, who, load_runner(ctx, actor, session_id, now), partial=True)
    return RedirectResponse(f"/sessions/{session_id}", status_code=303)


# -- routes ---------------------------------------------------------------------------------------------------


@router.get("/sessions/{session_id}", response_class=HTMLResponse)
def session_page(request: Request, session_id: str, who: CallerDep, ctx: ContextDep, now: NowDep) -> Response:
    """The runner of one session."""
    runner = load_runner(ctx, who.actor, parse_session_id(session_id), now)
    if request.query_params.get("notice") == "changed":
        runner.last_change = describe_last_change(ctx, who.actor, runner)
    return _render(request, who, runner)


@router.get("/sessions/{session_id}/observations", response_class=HTMLResponse)
def observations(request: Request, session_id: str, who: CallerDep, ctx: ContextDep, now: NowDep) -> Response:
    """The observations column alone (vitals, scores, adverse events) for an HTMX refresh."""
    return _render(request, who, load_runner(ctx, who.actor, parse_session_id(session_id), now), partial=True)


def _route(name: str) -> None:
    def post(
        request: Request, session_id: str, who: CallerDep, ctx: ContextDep, now: NowDep, form: TextFormDep
    ) -> Response:
        return _apply(request, who, ctx, session_id, name, form, now)

    post.__name__ = f"post_{name.replace('-', '_')}"
    post.__doc__ = f"The runner's {name} form (303 back to the runner, or the observations column for HTMX)."
    router.add_api_route(f"/sessions/{{session_id}}/{name}", post, methods=["POST"], response_class=HTMLResponse)


for _name in STEPS:
    _route(_name)
