"""The clinic's pages: the day's dashboard, patients, the chart, screening, the plan editor, REMS forms and the
admin pages (audit log, users).

Pages call the services only; the services check the actor's permission on everything they return and write the
audit log. Sections a role may not see are left out of the page (``actor.can``), and the services refuse anyway.
Bad input re-renders the form with the message naming the field (``InvalidAnswerError``) and changes nothing.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, get_args
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from ..clinic.costs import CostEstimate
from ..clinic.exceptions import ClinicError, InvalidAnswerError
from ..clinic.patients import SEXES, Patient, WeightRecord
from ..clinic.protocols import PlannedSession, Protocol, ProtocolStep
from ..clinic.rems import FIELD_SOURCES, REQUIRED_FIELDS
from ..clinic.scales import SCALES, get_scale
from ..clinic.screening import (
    CONDITIONS,
    DRUG_CLASSES,
    MEDICATIONS,
    SRC_MAUDSLEY,
    SRC_THASE_RUSH,
    SRC_TRD,
    AntidepressantTrial,
    ScreeningInput,
    Severity,
)
from ..clinic.screening import (
    Response as TrialResponse,
)
from ..clinic.sessions import EsketamineDose, ImDose, IvDose, Session, SessionKind
from ..clinic.settings import ClinicSettings
from ..score_charts import score_course_png
from ..services.accounts import (
    LINK_SCALES,
    create_questionnaire_link,
    create_user,
    list_users,
    reset_password,
    set_user_active,
)
from ..services.audit import audit_entries
from ..services.authorization import Actor, Permission, Role
from ..services.billing import course_cost_of, coverage_of, plan_estimate
from ..services.clinic_settings import get_settings
from ..services.dashboard import SAFETY_FLAGS, dashboard
from ..services.outcomes import booster_advice, course_of
from ..services.patients import get_patient, list_patients, record_consent, record_scale, register_patient, scales_for
from ..services.plans import create_plan, plans_for
from ..services.ports import ConflictError
from ..services.rems_forms import (
    enroll_patient,
    enrollment_of,
    form_fields,
    form_statuses,
    get_form,
    mark_submitted,
    status_on,
)
from ..services.screenings import screen_patient, screenings_for
from ..services.treatment import sessions_for
from .auth_pages import FormDep
from .base import CallerDep, ContextDep, form_actor, render

router = APIRouter()

PAGE_SIZE = 50
DASHBOARD_REMS_ROWS = 10
AUDIT_PAGE_SIZE = 100
COURSE_SCALES = ("MADRS", "PHQ-9", "GAD-7", "QIDS-SR16")
"""Scales whose course the chart summarises (when the patient has any)."""
CHART_SCALES = ("MADRS", "PHQ-9")
"""Scales drawn as a course image on the chart."""
TRIAL_ROWS = 5
"""Antidepressant-trial rows on the screening form."""

# MADRS item titles (Montgomery & Åsberg 1979, Br J Psychiatry 134:382-389); the clinician rates each 0-6.
MADRS_ITEMS = (
    "Apparent sadness",
    "Reported sadness",
    "Inner tension",
    "Reduced sleep",
    "Reduced appetite",
    "Concentration difficulties",
    "Lassitude",
    "Inability to feel",
    "Pessimistic thoughts",
    "Suicidal thoughts",
)

ROUTE_LABELS: Mapping[str, str] = {
    "intranasal-esketamine": "Esketamine nasal spray (Spravato)",
    "iv": "IV racemic ketamine",
    "im": "IM racemic ketamine",
}
KIND_LABELS: Mapping[SessionKind, str] = {
    SessionKind.IV_KETAMINE: "IV ketamine",
    SessionKind.IM_KETAMINE: "IM ketamine",
    SessionKind.ESKETAMINE: "Esketamine (Spravato)",
}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# ---------------------------------------------------------------------------------------------------------------
# Helpers: parsing form fields (errors name the field), formatting for the templates
# ---------------------------------------------------------------------------------------------------------------


def _text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidAnswerError(name, f"{value!r} is not a date" if value else "is missing", "YYYY-MM-DD") from None


def _float(value: str, name: str, allowed: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise InvalidAnswerError(name, f"{value!r} is not a number" if value else "is missing", allowed) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise InvalidAnswerError(name, f"{value!r} is not a number", allowed)
    return number


def _int(value: str, name: str, allowed: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise InvalidAnswerError(name, f"{value!r} is not a whole number" if value else "is missing", allowed) from None


def _checked(form: Mapping[str, Any], name: str) -> bool:
    return _text(form, name) in ("on", "1", "true", "yes")


def _error(exc: InvalidAnswerError | ClinicError) -> dict[str, str | None]:
    if isinstance(exc, InvalidAnswerError):
        return {"field": exc.field, "message": exc.message, "allowed": exc.allowed, "text": str(exc)}
    return {"field": None, "message": str(exc), "allowed": None, "text": str(exc)}


def full_name(patient: Patient) -> str:
    """'Family, Given' for lists and headings."""
    return f"{patient.family_name}, {patient.given_name}"


def money(value: Decimal) -> str:
    """US dollars with cents."""
    return f"${value:,.2f}"


def session_dose(session: Session) -> str:
    """The dose given (or ordered) in a session, with its arithmetic."""
    dose = session.dose
    if isinstance(dose, EsketamineDose):
        return f"{dose.total_mg} mg ({dose.devices} devices)"
    if isinstance(dose, IvDose):
        minutes = round(dose.duration.total_seconds() / 60)
        return f"{dose.mg_per_kg:g} mg/kg × {dose.weight_kg:g} kg = {dose.total_mg:.1f} mg over {minutes} min"
    if isinstance(dose, ImDose):
        return f"{dose.mg_per_kg:g} mg/kg × {dose.weight_kg:g} kg = {dose.total_mg:.1f} mg IM"
    return ""


def planned_dose(planned: PlannedSession | ProtocolStep, weight_kg: float | None = None) -> str:
    """A planned dose: mg, or mg/kg (with the mg at ``weight_kg``), and the infusion time."""
    if planned.dose_mg_per_kg is not None:
        text = f"{planned.dose_mg_per_kg:g} mg/kg"
        if weight_kg is not None:
            text += f" (≈{planned.dose_mg_per_kg * weight_kg:.1f} mg at {weight_kg:g} kg)"
    elif planned.dose_mg is not None:
        text = f"{planned.dose_mg:g} mg"
    else:
        text = ""
    if planned.duration_min is not None:
        text += f" over {planned.duration_min:g} min"
    return text


@dataclass(frozen=True)
class Fmt:
    """Formatting helpers handed to the templates: times in the clinic's time zone."""

    tz: ZoneInfo

    def time(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%H:%M")

    def dt(self, at: datetime) -> str:
        return at.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def date(self, day: date) -> str:
        return day.strftime("%a %d %b %Y")

    def kind(self, kind: SessionKind) -> str:
        return KIND_LABELS.get(kind, kind.value)

    name = staticmethod(full_name)
    money = staticmethod(money)
    dose = staticmethod(session_dose)
    planned = staticmethod(planned_dose)


def _clinic(ctx: Any) -> tuple[ClinicSettings, date, Fmt]:
    """The clinic's settings, its calendar day today and the formatter in its time zone."""
    settings, _ = get_settings(ctx.new_uow())
    tz = ZoneInfo(settings.timezone)
    return settings, datetime.now(tz).date(), Fmt(tz)


def _render(request: Request, template: str, who: Any, status_code: int = 200, **values: Any) -> HTMLResponse:
    """:func:`base.render` with the permissions at hand (``perm``) for the templates' ``actor.can(...)``."""
    return render(request, template, who, status_code, perm=Permission, **values)


def _pages(page: int, has_next: bool, base: str) -> dict[str, str | None]:
    joiner = "&" if "?" in base else "?"
    return {"prev": f"{base}{joiner}page={page - 1}" if page > 1 else None,
            "next": f"{base}{joiner}page={page + 1}" if has_next else None}  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Dashboard
# ---------------------------------------------------------------------------------------------------------------


@router.get("/", response_model=None)
def dashboard_page(request: Request, who: CallerDep, ctx: ContextDep, day: str = "") -> Response:
    """The clinic's day: sessions, REMS forms due or overdue, and safety flags of the last 14 days."""
    actor = who.actor
    if not actor.can(Permission.PATIENT_READ) and actor.can(Permission.RESEARCH_RUN):
        return RedirectResponse("/research", status_code=303)
    _, today, fmt = _clinic(ctx)
    chosen = _date(day, "day") if day else today
    board = dashboard(ctx.new_uow(), actor, chosen)
    sessions = sorted(board.sessions, key=lambda pair: pair[0].session.scheduled_at)
    rems = sorted(board.rems_open, key=lambda pair: (pair[0].status != "overdue", pair[0].due))
    return _render(request, "dashboard.html", who, board=board, sessions=sessions, rems=rems, day=chosen,
                  clinic_today=today, prev_day=chosen - timedelta(days=1), next_day=chosen + timedelta(days=1),
                  fmt=fmt, rems_shown=DASHBOARD_REMS_ROWS)  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# Patients: list and registration
# ---------------------------------------------------------------------------------------------------------------


@router.get("/patients")
def patients_page(request: Request, who: CallerDep, ctx: ContextDep, page: int = 1) -> HTMLResponse:
    """Patients by family name, 50 a page."""
    page = max(1, page)
    found = list_patients(ctx.new_uow(), who.actor, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    _, today, fmt = _clinic(ctx)
    return _render(request, "patients.html", who, patients=found[:PAGE_SIZE], page=page, clinic_today=today,
                  pages=_pages(page, len(found) > PAGE_SIZE, "/patients"), fmt=fmt)  # fmt: skip


def _new_patient_page(request: Request, who: Any, values: Mapping[str, str], today: date,
                      error: dict[str, str | None] | None = None, status_code: int = 200) -> HTMLResponse:  # fmt: skip
    return _render(request, "patient_new.html", who, status_code, v=values, error=error, sexes=SEXES,
                  clinic_today=today)  # fmt: skip


@router.get("/patients/new")
def new_patient_form(request: Request, who: CallerDep, ctx: ContextDep) -> HTMLResponse:
    """The registration form."""
    who.actor.require(Permission.PATIENT_WRITE)
    _, today, _ = _clinic(ctx)
    return _new_patient_page(request, who, {"weighed_on": today.isoformat()}, today)


PATIENT_FIELDS = ("given_name", "family_name", "date_of_birth", "sex", "email", "phone", "weight_kg", "weighed_on")


@router.post("/patients/new", response_model=None)
def new_patient_submit(request: Request, who: CallerDep, ctx: ContextDep, form: FormDep) -> Response:
    """Register a patient (and a first weight); bad input re-renders the form naming the field."""
    actor = form_actor(request, who, form)
    _, today, _ = _clinic(ctx)
    values = {name: _text(form, name) for name in PATIENT_FIELDS}
    try:
        patient = Patient(
            given_name=values["given_name"],
            family_name=values["family_name"],
            date_of_birth=_date(values["date_of_birth"], "date_of_birth"),
            sex=values["sex"],
            email=values["email"] or None,
            phone=values["phone"] or None,
        )
        weight = None
        if values["weight_kg"]:
            weighed_on = _date(values["weighed_on"], "weighed_on") if values["weighed_on"] else today
            weight = WeightRecord(weighed_on, _float(values["weight_kg"], "weight_kg", "20-400 kg"))
        patient_id = register_patient(ctx.new_uow(), actor, patient, weight)
    except InvalidAnswerError as exc:
        return _new_patient_page(request, who, values, today, _error(exc), 422)
    return RedirectResponse(f"/patients/{patient_id}", status_code=303)


# ---------------------------------------------------------------------------------------------------------------
# The chart
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class ChartErrors:
    """Messages of the chart's own forms (shown in their section)."""

    scale: dict[str, str | None] | None = None
    link: dict[str, str | None] | None = None
    rems: dict[str, str | None] | None = None
    consent: dict[str, str | None] | None = None
    values: dict[str, str] = field(default_factory=dict)


def _chart_values(request: Request, who: Any, ctx: Any, patient_id: uuid.UUID) -> dict[str, Any]:
    """Everything the chart shows that the actor may see, section by section."""
    actor: Actor = who.actor
    settings, today, fmt = _clinic(ctx)
    patient, version = get_patient(ctx.new_uow(), actor, patient_id)
    out: dict[str, Any] = {"patient": patient, "version": version, "clinic_today": today, "fmt": fmt,
                           "settings": settings, "age": patient.age_on(today)}  # fmt: skip
    can = {p.name.lower(): actor.can(p) for p in Permission}
    out["can"] = can

    records = scales_for(ctx.new_uow(), actor, patient_id) if can["scale_read"] else []
    out["scales"] = list(reversed(records))
    out["flagged"] = [r for r in reversed(records) if r.result.flags & SAFETY_FLAGS]
    out["recent_flag_since"] = today - timedelta(days=14)
    present = {r.result.scale_id for r in records if r.result.total is not None}
    out["courses"] = [(scale_id, course_of(ctx.new_uow(), actor, patient_id, scale_id))
                      for scale_id in COURSE_SCALES if scale_id in present]  # fmt: skip
    out["chart_scales"] = [s for s in CHART_SCALES if s in present]
    out["remission_max"] = {s: SCALES[s].remission_max for s in COURSE_SCALES}
    booster, booster_note = None, ""
    if "MADRS" in present:
        try:
            booster = booster_advice(ctx.new_uow(), actor, patient_id, "MADRS", today)
        except InvalidAnswerError as exc:
            booster_note = exc.message
    elif can["scale_read"]:
        booster_note = "no MADRS recorded yet"
    out["booster"], out["booster_note"] = booster, booster_note

    sessions = sessions_for(ctx.new_uow(), actor, patient_id)
    out["sessions"] = sessions
    plans = plans_for(ctx.new_uow(), actor, patient_id)
    out["plans"] = list(reversed(plans))
    screenings = screenings_for(ctx.new_uow(), actor, patient_id)
    out["screenings"] = list(reversed(screenings))
    out["screening_sources"] = {"trd": SRC_TRD, "maudsley": SRC_MAUDSLEY, "thase_rush": SRC_THASE_RUSH}

    esketamine = (any(r.session.kind is SessionKind.ESKETAMINE for r in sessions)
                  or any(p.plan.protocol.kind.route == "intranasal" for p in plans)
                  or any(s.input.route == "intranasal-esketamine" for s in screenings[-1:]))  # fmt: skip
    out["esketamine"] = esketamine

    if can["cost_read"]:
        out["coverage"] = coverage_of(ctx.new_uow(), actor, patient_id)
        out["course_cost"] = course_cost_of(ctx.new_uow(), actor, patient_id)
        estimates: list[tuple[Any, CostEstimate | None, str]] = []
        for plan in out["plans"]:
            if plan.status == "active":
                try:
                    estimates.append((plan, plan_estimate(ctx.new_uow(), actor, plan.id), ""))
                except InvalidAnswerError as exc:
                    estimates.append((plan, None, str(exc)))
        out["estimates"] = estimates
    if can["rems_read"] and esketamine:
        out["enrollment"] = enrollment_of(ctx.new_uow(), actor, patient_id)
        out["rems_forms"] = form_statuses(ctx.new_uow(), actor, today, patient_id=patient_id)
    out["link_scales"] = LINK_SCALES
    out["madrs_items"] = list(zip(MADRS_ITEMS, get_scale("MADRS").items, strict=True))
    return out


def _chart_page(request: Request, who: Any, ctx: Any, patient_id: uuid.UUID, errors: ChartErrors | None = None,
                new_link: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:  # fmt: skip
    values = _chart_values(request, who, ctx, patient_id)
    return _render(request, "chart.html", who, status_code, errors=errors or ChartErrors(), new_link=new_link,
                  **values)  # fmt: skip


@router.get("/patients/{patient_id}")
def chart_page(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID) -> HTMLResponse:
    """A patient's chart."""
    return _chart_page(request, who, ctx, patient_id)


@router.get("/patients/{patient_id}/chart/{scale_id}.png")
def chart_png(who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID, scale_id: str) -> Response:
    """The course of a scale as a PNG with the response (50% of baseline) and remission lines."""
    scale = get_scale(scale_id)
    by_day: dict[date, int] = {}
    for record in scales_for(ctx.new_uow(), who.actor, patient_id):
        if record.result.scale_id == scale.id and record.result.total is not None:
            by_day[record.taken_on] = record.result.total  # the latest entry of a day wins (as in the course)
    return Response(_course_png(scale.id, tuple(sorted(by_day.items()))), media_type="image/png")


@lru_cache(maxsize=128)
def _course_png(scale_id: str, points: tuple[tuple[date, int], ...]) -> bytes:
    """The course image (drawing takes ~0.2 s; the same totals give the same image, so keep the last few)."""
    scale = get_scale(scale_id)
    baseline = points[0][1] if points else None
    response_line = baseline / 2 if baseline is not None and scale.has_response_rule else None
    return score_course_png(points, scale.id, baseline, response_line, scale.remission_max, f"{scale.id} course")


def _link_url(request: Request, ctx: Any, token: str) -> str:
    base = ctx.settings.public_url.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}/q/{token}"


@router.post("/patients/{patient_id}/questionnaire-link")
def questionnaire_link(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID,
                       form: FormDep) -> HTMLResponse:  # fmt: skip
    """Create a single-use PHQ-9/GAD-7 link for the patient and show its URL once."""
    actor = form_actor(request, who, form)
    scale_id = _text(form, "scale_id")
    partial = request.headers.get("hx-request") == "true"
    try:
        token = create_questionnaire_link(ctx.new_uow(), actor, patient_id, scale_id)
    except InvalidAnswerError as exc:
        if partial:
            return _render(request, "_link.html", who, 422, patient_id=patient_id, link_error=_error(exc),
                          link_scales=LINK_SCALES, new_link=None)  # fmt: skip
        return _chart_page(request, who, ctx, patient_id, ChartErrors(link=_error(exc)), status_code=422)
    new_link = {"url": _link_url(request, ctx, token), "scale_id": scale_id}
    if partial:
        return _render(request, "_link.html", who, patient_id=patient_id, new_link=new_link, link_error=None,
                      link_scales=LINK_SCALES)  # fmt: skip
    return _chart_page(request, who, ctx, patient_id, new_link=new_link)


@router.post("/patients/{patient_id}/scales", response_model=None)
def record_scale_submit(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID,
                        form: FormDep) -> Response:  # fmt: skip
    """Record a clinician-rated MADRS item by item."""
    actor = form_actor(request, who, form)
    scale = get_scale("MADRS")
    values = {f"item{i}": _text(form, f"item{i}") for i in range(1, len(scale.items) + 1)}
    values["taken_on"] = _text(form, "taken_on")
    try:
        taken_on = _date(values["taken_on"], "taken_on")
        answers = [_int(values[f"item{i}"], f"item {i} ({MADRS_ITEMS[i - 1]})", f"{item.min}-{item.max}")
                   for i, item in enumerate(scale.items, start=1)]  # fmt: skip
        record_scale(ctx.new_uow(), actor, patient_id, scale.id, answers, taken_on)
    except InvalidAnswerError as exc:
        errors = ChartErrors(scale=_error(exc), values=values)
        return _chart_page(request, who, ctx, patient_id, errors, status_code=422)
    return RedirectResponse(f"/patients/{patient_id}#scales", status_code=303)


@router.post("/patients/{patient_id}/consents", response_model=None)
def consent_submit(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID,
                   form: FormDep) -> Response:  # fmt: skip
    """File a signed consent document (a new version of the patient's record)."""
    actor = form_actor(request, who, form)
    values = {"document": _text(form, "document"), "signed_on": _text(form, "signed_on")}
    try:
        signed_on = _date(values["signed_on"], "signed_on")
        version = _int(_text(form, "version"), "version", "the record's version")
        record_consent(ctx.new_uow(), actor, patient_id, version, values["document"], signed_on)
    except InvalidAnswerError as exc:
        return _chart_page(
            request, who, ctx, patient_id, ChartErrors(consent=_error(exc), values=values), status_code=422
        )
    except ConflictError:
        stale = InvalidAnswerError("version", "someone else changed this record: check it and file again")
        return _chart_page(
            request, who, ctx, patient_id, ChartErrors(consent=_error(stale), values=values), status_code=409
        )
    return RedirectResponse(f"/patients/{patient_id}#consents", status_code=303)


@router.post("/patients/{patient_id}/rems-enrollment", response_model=None)
def rems_enrollment_submit(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID,
                           form: FormDep) -> Response:  # fmt: skip
    """Record the signed Spravato REMS Patient Enrollment Form."""
    actor = form_actor(request, who, form)
    try:
        enrolled_on = _date(_text(form, "enrolled_on"), "enrolled_on")
        enroll_patient(ctx.new_uow(), actor, patient_id, enrolled_on, patient_signed=_checked(form, "patient_signed"),
                       prescriber_signed=_checked(form, "prescriber_signed"))  # fmt: skip
    except InvalidAnswerError as exc:
        return _chart_page(request, who, ctx, patient_id, ChartErrors(rems=_error(exc)), status_code=422)
    return RedirectResponse(f"/patients/{patient_id}#rems", status_code=303)


# ---------------------------------------------------------------------------------------------------------------
# Screening
# ---------------------------------------------------------------------------------------------------------------


def _screening_values(data: ScreeningInput | None, today: date) -> dict[str, Any]:
    values: dict[str, Any] = {"screened_on": today.isoformat(), "conditions": [], "medications": []}
    if data is None:
        return values
    values.update(route=data.route, episode_months=str(data.episode_months), severity=data.severity,
                  augmentation_used=data.augmentation_used, ect_used=data.ect_used,
                  bilateral_ect_failed=data.bilateral_ect_failed, conditions=sorted(data.conditions),
                  medications=sorted(data.medications))  # fmt: skip
    for i, trial in enumerate(data.trials[:TRIAL_ROWS]):
        values.update({f"t{i}_drug": trial.drug, f"t{i}_class": trial.drug_class, f"t{i}_dose": trial.dose_adequate,
                       f"t{i}_weeks": f"{trial.weeks:g}", f"t{i}_duration": trial.adequate_duration,
                       f"t{i}_response": trial.response, f"t{i}_current": trial.in_current_episode})  # fmt: skip
    return values


def _posted_screening(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {n: _text(form, n) for n in ("route", "episode_months", "severity", "screened_on")}
    for name in ("augmentation_used", "ect_used", "bilateral_ect_failed"):
        values[name] = _checked(form, name)
    values["conditions"] = [c for c in form.getlist("conditions") if isinstance(c, str)]
    values["medications"] = [m for m in form.getlist("medications") if isinstance(m, str)]
    for i in range(TRIAL_ROWS):
        for name in ("drug", "class", "weeks", "response"):
            values[f"t{i}_{name}"] = _text(form, f"t{i}_{name}")
        for name in ("dose", "duration", "current"):
            values[f"t{i}_{name}"] = _checked(form, f"t{i}_{name}")
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
                weeks=_float(values[f"t{i}_weeks"], "weeks", ">= 0"), adequate_duration=values[f"t{i}_duration"],
                response=values[f"t{i}_response"], in_current_episode=values[f"t{i}_current"]))  # fmt: skip
        except InvalidAnswerError as exc:
            name = exc.field.removeprefix("AntidepressantTrial.")
            raise InvalidAnswerError(f"{where} {name}", exc.message, exc.allowed) from None
    return ScreeningInput(
        episode_months=_int(values["episode_months"], "episode_months", "whole months >= 0"),
        severity=values["severity"],
        trials=tuple(trials),
        augmentation_used=values["augmentation_used"],
        ect_used=values["ect_used"],
        route=values["route"],
        conditions=frozenset(values["conditions"]),
        medications=frozenset(values["medications"]),
        bilateral_ect_failed=values["bilateral_ect_failed"],
    )


def _screening_page(request: Request, who: Any, patient: Patient, values: Mapping[str, Any],
                    error: dict[str, str | None] | None = None, status_code: int = 200) -> HTMLResponse:  # fmt: skip
    return _render(request, "screening.html", who, status_code, patient=patient, v=values, error=error,
                  routes=ROUTE_LABELS, severities=get_args(Severity), responses=get_args(TrialResponse),
                  drug_classes=DRUG_CLASSES, conditions=CONDITIONS, medications=MEDICATIONS, rows=range(TRIAL_ROWS),
                  name=full_name)  # fmt: skip


@router.get("/patients/{patient_id}/screening")
def screening_form(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID) -> HTMLResponse:
    """The screening form, filled in from the patient's last screening (if any)."""
    who.actor.require(Permission.SCREENING_WRITE)
    _, today, _ = _clinic(ctx)
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
        screened_on = _date(values["screened_on"], "screened_on")
        screen_patient(ctx.new_uow(), actor, patient_id, data, screened_on)
    except InvalidAnswerError as exc:
        patient, _ = get_patient(ctx.new_uow(), actor, patient_id)
        return _screening_page(request, who, patient, values, _error(exc), 422)
    return RedirectResponse(f"/patients/{patient_id}#screening", status_code=303)


# ---------------------------------------------------------------------------------------------------------------
# Plan editor
# ---------------------------------------------------------------------------------------------------------------

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
            raw = _text(form, f"step{i}_{name}")
            where = f"steps[{i}].{name}"
            changes[name] = _float(raw, where, "a number > 0") if raw or name != "first_dose_mg" else None
        try:
            steps.append(replace(step, **changes))  # type: ignore[arg-type]  # float fields only; re-validated
        except InvalidAnswerError as exc:
            name = exc.field if exc.field.startswith("steps[") else f"steps[{i}].{exc.field}"
            raise InvalidAnswerError(name, exc.message, exc.allowed) from None
    return protocol.with_changes(steps=tuple(steps))


def _plan_page(request: Request, who: Any, ctx: Any, patient: Patient, protocol_id: str,
               values: Mapping[str, str] | None = None, error: dict[str, str | None] | None = None,
               status_code: int = 200) -> HTMLResponse:  # fmt: skip
    settings, today, fmt = _clinic(ctx)
    protocols = dict(settings.protocols)
    chosen = protocols.get(protocol_id) or next(iter(protocols.values()))
    start = today
    while start.weekday() not in settings.opening_days:
        start += timedelta(days=1)
    v = {"start": start.isoformat(), "through_week": "", **_step_values(chosen), **(values or {})}
    return _render(request, "plan_new.html", who, status_code, patient=patient, protocols=protocols, protocol=chosen,
                  v=v, error=error, weekdays=WEEKDAYS, fmt=fmt, settings=settings,
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
    protocol_id = _text(form, "protocol_id")
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        protocol = _edited(settings.protocol(protocol_id), form)
        start = _date(_text(form, "start"), "start")
        through = _text(form, "through_week")
        through_week = _int(through, "through_week", "a study week >= 1") if through else None
        create_plan(ctx.new_uow(), actor, patient_id, protocol_id, start, protocol=protocol, through_week=through_week)
    except (InvalidAnswerError, ClinicError) as exc:
        patient, _ = get_patient(ctx.new_uow(), actor, patient_id)
        return _plan_page(request, who, ctx, patient, protocol_id, values, _error(exc), 422)
    return RedirectResponse(f"/patients/{patient_id}#plans", status_code=303)


# ---------------------------------------------------------------------------------------------------------------
# REMS
# ---------------------------------------------------------------------------------------------------------------

REMS_SECTIONS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("Patient", lambda n: n.startswith("patient_") or n in ("first_treatment", "already_enrolled")),
    ("Concomitant medications", lambda n: n in ("benzodiazepines", "non_benzodiazepine_sedative_hypnotics",
                                                "psychostimulants", "maois", "opioids")),
    ("Healthcare provider conducting monitoring", lambda n: n.startswith("hcp_")),
    ("Healthcare setting", lambda n: n.startswith("setting_")),
    ("Vital signs", lambda n: n.startswith(("vitals_", "bp_")) or n == "pulse_oximetry_checked"),
    ("Adverse events", lambda n: n.startswith(("sedation", "dissociation", "respiratory_depression", "serious_"))),
    ("Session", lambda n: True),
)  # fmt: skip
ACRONYMS = {"hcp": "HCP", "bp": "BP", "maois": "MAOIs", "mg": "mg", "40": "40"}


def field_label(name: str) -> str:
    """A form field's printable label (``bp_40_min_after`` -> ``BP 40 min after``)."""
    words = [ACRONYMS.get(w, w) for w in name.split("_")]
    first = words[0] if words[0] in ACRONYMS.values() else words[0].capitalize()
    return " ".join([first, *words[1:]])


@dataclass(frozen=True)
class RemsSection:
    """A section of the printed form: its rows (name, label, value, required, source note) and the notes."""

    title: str
    rows: list[tuple[str, str, str, bool, int]]
    sources: list[str]


def _rems_sections(fields: Sequence[tuple[str, str]]) -> list[RemsSection]:
    grouped: dict[str, list[tuple[str, str]]] = {title: [] for title, _ in REMS_SECTIONS}
    for name, value in fields:
        title = next(t for t, belongs in REMS_SECTIONS if belongs(name))
        grouped[title].append((name, value))
    order = ["Patient", "Concomitant medications", "Healthcare provider conducting monitoring", "Healthcare setting",
             "Session", "Vital signs", "Adverse events"]  # fmt: skip
    sections = []
    for title in order:
        sources: list[str] = []
        rows = []
        for name, value in grouped[title]:
            source = FIELD_SOURCES.get(name, "")
            if source and source not in sources:
                sources.append(source)
            note = sources.index(source) + 1 if source else 0
            rows.append((name, field_label(name), value, name in REQUIRED_FIELDS, note))
        if rows:
            sections.append(RemsSection(title, rows, sources))
    return sections


@router.get("/rems")
def rems_list(request: Request, who: CallerDep, ctx: ContextDep, show: str = "open") -> HTMLResponse:
    """Patient Monitoring Forms with their 7-day status; open ones (overdue first) by default."""
    _, today, fmt = _clinic(ctx)
    rows = form_statuses(ctx.new_uow(), who.actor, today)
    order = {"overdue": 0, "due": 1, "submitted": 2}
    rows = sorted(rows, key=lambda r: (order[r.status], r.due if r.status != "submitted" else date.max - r.due))
    counts = {s: sum(r.status == s for r in rows) for s in order}
    shown = rows if show == "all" else [r for r in rows if r.status != "submitted"]
    return _render(request, "rems_list.html", who, rows=shown, counts=counts, show=show, clinic_today=today, fmt=fmt)


@router.get("/rems/{form_id}.csv")
def rems_csv(who: CallerDep, ctx: ContextDep, form_id: uuid.UUID) -> Response:
    """The form's fields as CSV rows (field, label, value), for upload or the record."""
    record = get_form(ctx.new_uow(), who.actor, form_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["field", "label", "value"])
    for name, value in form_fields(record.form):
        # a leading = + - @ would make a spreadsheet evaluate the cell: quote it (CSV injection)
        safe = "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
        writer.writerow([name, field_label(name), safe])
    filename = f"rems-pmf-{record.form.treatment_date.isoformat()}-{str(record.id)[:8]}.csv"
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})  # fmt: skip


def _rems_page(request: Request, who: Any, ctx: Any, form_id: uuid.UUID, error: dict[str, str | None] | None = None,
               submitted_on: str = "", status_code: int = 200) -> HTMLResponse:  # fmt: skip
    _, today, fmt = _clinic(ctx)
    record = get_form(ctx.new_uow(), who.actor, form_id)
    row = status_on(record, today)
    return _render(request, "rems_form.html", who, status_code, record=record, row=row, clinic_today=today, fmt=fmt,
                  sections=_rems_sections(form_fields(record.form)), error=error,
                  submitted_on=submitted_on or today.isoformat())  # fmt: skip


@router.get("/rems/{form_id}")
def rems_form(request: Request, who: CallerDep, ctx: ContextDep, form_id: uuid.UUID) -> HTMLResponse:
    """The full Patient Monitoring Form (print-friendly) and the 'mark submitted' form."""
    return _rems_page(request, who, ctx, form_id)


@router.post("/rems/{form_id}/submitted", response_model=None)
def rems_mark_submitted(request: Request, who: CallerDep, ctx: ContextDep, form_id: uuid.UUID,
                        form: FormDep) -> Response:  # fmt: skip
    """Record the date the form was submitted to the REMS (the version guards against a double submission)."""
    actor = form_actor(request, who, form)
    submitted = _text(form, "submitted_on")
    try:
        version = _int(_text(form, "version"), "version", "the form's version")
        mark_submitted(ctx.new_uow(), actor, form_id, version, _date(submitted, "submitted_on"))
    except InvalidAnswerError as exc:
        return _rems_page(request, who, ctx, form_id, _error(exc), submitted, 422)
    return RedirectResponse(f"/rems/{form_id}", status_code=303)


# ---------------------------------------------------------------------------------------------------------------
# Admin: audit log and users
# ---------------------------------------------------------------------------------------------------------------


@router.get("/admin/audit")
def audit_page(request: Request, who: CallerDep, ctx: ContextDep, page: int = 1,
               patient: uuid.UUID | None = None) -> HTMLResponse:  # fmt: skip
    """The audit log, newest first, 100 a page (optionally one patient's)."""
    page = max(1, page)
    entries = audit_entries(ctx.new_uow(), who.actor, limit=AUDIT_PAGE_SIZE + 1, offset=(page - 1) * AUDIT_PAGE_SIZE,
                            patient_id=patient)  # fmt: skip
    _, _, fmt = _clinic(ctx)
    base = f"/admin/audit?patient={patient}" if patient else "/admin/audit"
    return _render(request, "audit.html", who, entries=entries[:AUDIT_PAGE_SIZE], page=page, patient=patient,
                  pages=_pages(page, len(entries) > AUDIT_PAGE_SIZE, base), fmt=fmt)  # fmt: skip


STAFF_ROLES = tuple(r for r in Role if r is not Role.PATIENT)


def _users_page(request: Request, who: Any, ctx: Any, *, secret: dict[str, str] | None = None,
                error: dict[str, str | None] | None = None, values: Mapping[str, str] | None = None,
                status_code: int = 200) -> HTMLResponse:  # fmt: skip
    _, _, fmt = _clinic(ctx)
    users = list_users(ctx.new_uow(), who.actor)
    now = datetime.now(fmt.tz)
    return _render(request, "users.html", who, status_code, users=users, roles=STAFF_ROLES, secret=secret, error=error,
                  v=values or {}, fmt=fmt, now=now)  # fmt: skip


@router.get("/admin/users")
def users_page(request: Request, who: CallerDep, ctx: ContextDep) -> HTMLResponse:
    """Logins: create, activate/deactivate, reset a password."""
    return _users_page(request, who, ctx)


@router.post("/admin/users")
def user_create(request: Request, who: CallerDep, ctx: ContextDep, form: FormDep) -> HTMLResponse:
    """Create a login with a generated password, shown once on the page that answers."""
    actor = form_actor(request, who, form)
    values = {"username": _text(form, "username").lower(), "role": _text(form, "role")}
    try:
        if values["role"] == Role.PATIENT.value:
            allowed = ", ".join(r.value for r in STAFF_ROLES)
            raise InvalidAnswerError("role", "patients use questionnaire links, not logins", allowed)
        user, password = create_user(ctx.new_uow(), actor, values["username"], values["role"])
    except InvalidAnswerError as exc:
        return _users_page(request, who, ctx, error=_error(exc), values=values, status_code=422)
    except ConflictError as exc:
        return _users_page(request, who, ctx, error={"field": "username", "message": str(exc), "allowed": None,
                                                     "text": str(exc)}, values=values, status_code=409)  # fmt: skip
    return _users_page(request, who, ctx, secret={"username": user.username, "password": password, "what": "created"})


@router.post("/admin/users/{username}/active", response_model=None)
def user_active(request: Request, who: CallerDep, ctx: ContextDep, username: str, form: FormDep) -> Response:
    """Activate or deactivate a login (a deactivated user's sessions end)."""
    actor = form_actor(request, who, form)
    set_user_active(ctx.new_uow(), actor, username, _text(form, "active") == "1")
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/password")
def user_reset_password(request: Request, who: CallerDep, ctx: ContextDep, username: str,
                        form: FormDep) -> HTMLResponse:  # fmt: skip
    """Give a login a new generated password, shown once."""
    actor = form_actor(request, who, form)
    password = reset_password(ctx.new_uow(), actor, username)
    return _users_page(request, who, ctx, secret={"username": username, "password": password, "what": "reset"})
