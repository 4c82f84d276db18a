"""The plan editor: one of the clinic's protocols, a start date and each step's dose."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..clinic.exceptions import ClinicError, InvalidAnswerError
from ..clinic.patients import Patient
from ..clinic.protocols.templates import Protocol
from ..services.authorization import Permission
from ..services.clinic_settings import get_settings
from ..services.patients import get_patient
from ..services.plans import create_plan
from .base import CallerDep, ContextDep, form_actor
from .display import clinic_today, render_page
from .forms import FormDep, error_values, field_text, parse_date, parse_float, parse_int

router = APIRouter()

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

STEP_FIELDS = ("dose_mg_per_kg", "dose_mg", "first_dose_mg", "duration_min")


def _step_values(protocol: Protocol) -> dict[str, str]:
    values = {}
    for i, step in enumerate(protocol.steps):
        for name in STEP_FIELDS:
            value = getattr(step, name)
            if value is not None:
                values[f"step{i}_{name}"] = f"{value:g}"
    return values


def _edited(protocol: Protocol, form: Mapping[str, Any]) -> Protocol:
    """``protocol`` with the doses edited on the form; the domain re-validates each step and the protocol."""
    steps = []
    for i, step in enumerate(protocol.steps):
        changes: dict[str, float | None] = {}
        for name in STEP_FIELDS:
            if getattr(step, name) is None:
                continue  # only the fields the step has can be edited
            raw = field_text(form, f"step{i}_{name}")
            where = f"steps[{i}].{name}"
            changes[name] = parse_float(raw, where, "a number > 0") if raw or name != "first_dose_mg" else None
        try:
            steps.append(replace(step, **changes))  # type: ignore[arg-type]  # float fields only; re-validated
        except InvalidAnswerError as exc:
            name = exc.field if exc.field.startswith("steps[") else f"steps[{i}].{exc.field}"
            raise InvalidAnswerError(name, exc.message, exc.allowed) from None
    return protocol.with_changes(steps=tuple(steps))


def _plan_page(request: Request, who: Any, ctx: Any, patient: Patient, protocol_id: str,
               values: Mapping[str, str] | None = None, error: dict[str, str | None] | None = None,
               status_code: int = 200) -> HTMLResponse:  # fmt: skip
    settings, today, fmt = clinic_today(ctx)
    protocols = dict(settings.protocols)
    chosen = protocols.get(protocol_id) or next(iter(protocols.values()))
    start = today
    while start.weekday() not in settings.opening_days:
        start += timedelta(days=1)
    v = {"start": start.isoformat(), "through_week": "", **_step_values(chosen), **(values or {})}
    return render_page(request, "plan_new.html", who, status_code, patient=patient, protocols=protocols,
                       protocol=chosen, v=v, error=error, weekdays=WEEKDAYS, fmt=fmt, settings=settings,
                       opening=", ".join(WEEKDAYS[d] for d in sorted(settings.opening_days)))  # fmt: skip


@router.get("/patients/{patient_id}/plans/new")
def plan_form(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID,
              protocol: str = "") -> HTMLResponse:  # fmt: skip
    """The plan editor: one of the clinic's protocols, a start date, and each step's dose."""
    who.actor.require(Permission.PLAN_WRITE)
    patient, _ = get_patient(ctx.new_uow(), who.actor, patient_id)
    return _plan_page(request, who, ctx, patient, protocol)


@router.post("/patients/{patient_id}/plans/new", response_model=None)
def plan_submit(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID, form: FormDep) -> Response:
    """Create the plan with the edited doses; the domain's error names the field otherwise."""
    actor = form_actor(request, who, form)
    settings, _ = get_settings(ctx.new_uow())
    protocol_id = field_text(form, "protocol_id")
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        protocol = _edited(settings.protocol(protocol_id), form)
        start = parse_date(field_text(form, "start"), "start")
        through = field_text(form, "through_week")
        through_week = parse_int(through, "through_week", "a study week >= 1") if through else None
        create_plan(ctx.new_uow(), actor, patient_id, protocol_id, start, protocol=protocol, through_week=through_week)
    except (InvalidAnswerError, ClinicError) as exc:
        patient, _ = get_patient(ctx.new_uow(), actor, patient_id)
        return _plan_page(request, who, ctx, patient, protocol_id, values, error_values(exc), 422)
    return RedirectResponse(f"/patients/{patient_id}#plans", status_code=303)
