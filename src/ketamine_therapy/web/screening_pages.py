"""The screening form: the patient's treatment history in, the screening rules' report stored for the chart."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any, get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.patients import Patient
from ..clinic.screening import CONDITIONS, DRUG_CLASSES, MEDICATIONS, AntidepressantTrial, ScreeningInput, Severity
from ..clinic.screening import Response as TrialResponse
from ..services.authorization import Permission
from ..services.patients import get_patient
from ..services.screenings import screen_patient, screenings_for
from .base import CallerDep, ContextDep, form_actor
from .display import clinic_today, full_name, render_page
from .forms import FormDep, error_values, field_text, is_checked, parse_date, parse_float, parse_int

router = APIRouter()

TRIAL_ROWS = 5
"""Antidepressant-trial rows on the screening form."""

ROUTE_LABELS: Mapping[str, str] = {
    "intranasal-esketamine": "Esketamine nasal spray (Spravato)",
    "iv": "IV racemic ketamine",
    "im": "IM racemic ketamine",
}


def _screening_values(data: ScreeningInput | None, today: date) -> dict[str, Any]:
    values: dict[str, Any] = {"screened_on": today.isoformat(), "conditions": [], "medications": []}
    if data is None:
        return values
    values.update(route=data.route, episode_months=str(data.episode_months), severity=data.severity,
                  augmentation_used=data.augmentation_used, ect_used=data.ect_used,
                  bilateral_ect_failed=data.bilateral_ect_failed, conditions=sorted(data.conditions),
                  mdsi=data.indication == "mdsi", concurrent_oral_antidepressant=data.concurrent_oral_antidepressant,
                  medications=sorted(data.medications))  # fmt: skip
    for i, trial in enumerate(data.trials[:TRIAL_ROWS]):
        values.update({f"t{i}_drug": trial.drug, f"t{i}_class": trial.drug_class, f"t{i}_dose": trial.dose_adequate,
                       f"t{i}_weeks": f"{trial.weeks:g}", f"t{i}_duration": trial.adequate_duration,
                       f"t{i}_response": trial.response, f"t{i}_current": trial.in_current_episode})  # fmt: skip
    return values


def _posted_screening(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {n: field_text(form, n) for n in ("route", "episode_months", "severity", "screened_on")}
    for name in ("augmentation_used", "ect_used", "bilateral_ect_failed", "mdsi", "concurrent_oral_antidepressant"):
        values[name] = is_checked(form, name)
    values["conditions"] = [c for c in form.getlist("conditions") if isinstance(c, str)]
    values["medications"] = [m for m in form.getlist("medications") if isinstance(m, str)]
    for i in range(TRIAL_ROWS):
        for name in ("drug", "class", "weeks", "response"):
            values[f"t{i}_{name}"] = field_text(form, f"t{i}_{name}")
        for name in ("dose", "duration", "current"):
            values[f"t{i}_{name}"] = is_checked(form, f"t{i}_{name}")
    return values


def _screening_input(values: Mapping[str, Any]) -> ScreeningInput:
    trials = []
    for i in range(TRIAL_ROWS):
        if not values[f"t{i}_drug"]:
            continue
        where = f"trial {i + 1}"
        try:
            trials.append(AntidepressantTrial(
                drug=values[f"t{i}_drug"], drug_class=values[f"t{i}_class"], dose_adequate=values[f"t{i}_dose"],
                weeks=parse_float(values[f"t{i}_weeks"], "weeks", ">= 0"), adequate_duration=values[f"t{i}_duration"],
                response=values[f"t{i}_response"], in_current_episode=values[f"t{i}_current"]))  # fmt: skip
        except InvalidAnswerError as exc:
            name = exc.field.removeprefix("AntidepressantTrial.")
            raise InvalidAnswerError(f"{where} {name}", exc.message, exc.allowed) from None
    return ScreeningInput(
        episode_months=parse_int(values["episode_months"], "episode_months", "whole months >= 0"),
        severity=values["severity"],
        trials=tuple(trials),
        augmentation_used=values["augmentation_used"],
        ect_used=values["ect_used"],
        route=values["route"],
        conditions=frozenset(values["conditions"]),
        medications=frozenset(values["medications"]),
        bilateral_ect_failed=values["bilateral_ect_failed"],
        indication="mdsi" if values["mdsi"] else "trd",
        concurrent_oral_antidepressant=values["concurrent_oral_antidepressant"],
    )


def _screening_page(request: Request, who: Any, patient: Patient, values: Mapping[str, Any],
                    error: dict[str, str | None] | None = None, status_code: int = 200) -> HTMLResponse:  # fmt: skip
    return render_page(request, "screening.html", who, status_code, patient=patient, v=values, error=error,
                       routes=ROUTE_LABELS, severities=get_args(Severity), responses=get_args(TrialResponse),
                       drug_classes=DRUG_CLASSES, conditions=CONDITIONS, medications=MEDICATIONS,
                       rows=range(TRIAL_ROWS), name=full_name)  # fmt: skip


@router.get("/patients/{patient_id}/screening")
def screening_form(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID) -> HTMLResponse:
    """The screening form, filled in from the patient's last screening (if any)."""
    who.actor.require(Permission.SCREENING_WRITE)
    _, today, _ = clinic_today(ctx)
    patient, _ = get_patient(ctx.new_uow(), who.actor, patient_id)
    previous = screenings_for(ctx.new_uow(), who.actor, patient_id)
    return _screening_page(request, who, patient, _screening_values(previous[-1].input if previous else None, today))


@router.post("/patients/{patient_id}/screening", response_model=None)
def screening_submit(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID,
                     form: FormDep) -> Response:  # fmt: skip
    """Run the screening rules and store input and report; back to the chart's screening section."""
    actor = form_actor(request, who, form)
    values = _posted_screening(form)
    try:
        data = _screening_input(values)
        screened_on = parse_date(values["screened_on"], "screened_on")
        screen_patient(ctx.new_uow(), actor, patient_id, data, screened_on, clock=ctx.clock)
    except InvalidAnswerError as exc:
        patient, _ = get_patient(ctx.new_uow(), actor, patient_id)
        return _screening_page(request, who, patient, values, error_values(exc), 422)
    return RedirectResponse(f"/patients/{patient_id}#screening", status_code=303)
