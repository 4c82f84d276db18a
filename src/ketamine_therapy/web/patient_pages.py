"""Patients: the list, 50 a page, and registration (with a first weight); bad input re-renders the form naming
the field."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.patients import SEXES, Patient, WeightRecord
from ..services.authorization import Permission
from ..services.patients import list_patients, register_patient
from ..validation.forms import parse_text
from ..validation.quantities import WeightKg
from .base import CallerDep, ContextDep, form_actor
from .display import clinic_today, page_links, render_page
from .forms import FormDep, error_values, field_text, parse_date

router = APIRouter()

PAGE_SIZE = 50


@router.get("/patients")
def patients_page(request: Request, who: CallerDep, ctx: ContextDep, page: int = 1) -> HTMLResponse:
    """Patients by family name, 50 a page."""
    page = max(1, page)
    found = list_patients(ctx.new_uow(), who.actor, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    _, today, fmt = clinic_today(ctx)
    return render_page(request, "patients.html", who, patients=found[:PAGE_SIZE], page=page, clinic_today=today,
                       pages=page_links(page, len(found) > PAGE_SIZE, "/patients"), fmt=fmt)  # fmt: skip


def _new_patient_page(request: Request, who: Any, values: Mapping[str, str], today: date,
                      error: dict[str, str | None] | None = None, status_code: int = 200) -> HTMLResponse:  # fmt: skip
    return render_page(request, "patient_new.html", who, status_code, v=values, error=error, sexes=SEXES,
                       clinic_today=today)  # fmt: skip


@router.get("/patients/new")
def new_patient_form(request: Request, who: CallerDep, ctx: ContextDep) -> HTMLResponse:
    """The registration form."""
    who.actor.require(Permission.PATIENT_WRITE)
    _, today, _ = clinic_today(ctx)
    return _new_patient_page(request, who, {"weighed_on": today.isoformat()}, today)


PATIENT_FIELDS = ("given_name", "family_name", "date_of_birth", "sex", "email", "phone", "weight_kg", "weighed_on")


@router.post("/patients/new", response_model=None)
def new_patient_submit(request: Request, who: CallerDep, ctx: ContextDep, form: FormDep) -> Response:
    """Register a patient (and a first weight); bad input re-renders the form naming the field."""
    actor = form_actor(request, who, form)
    _, today, _ = clinic_today(ctx)
    values = {name: field_text(form, name) for name in PATIENT_FIELDS}
    try:
        patient = Patient(
            given_name=values["given_name"],
            family_name=values["family_name"],
            date_of_birth=parse_date(values["date_of_birth"], "date_of_birth"),
            sex=values["sex"],
            email=values["email"] or None,
            phone=values["phone"] or None,
        )
        weight = None
        if values["weight_kg"]:
            weighed_on = parse_date(values["weighed_on"], "weighed_on") if values["weighed_on"] else today
            weight = WeightRecord(weighed_on, cast("float", parse_text(WeightKg, values["weight_kg"], "weight_kg")))
        patient_id = register_patient(ctx.new_uow(), actor, patient, weight, clock=ctx.clock)
    except InvalidAnswerError as exc:
        return _new_patient_page(request, who, values, today, error_values(exc), 422)
    return RedirectResponse(f"/patients/{patient_id}", status_code=303)
