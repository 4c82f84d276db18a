"""A patient's chart and its own forms: questionnaire links, MADRS ratings, consents and the Spravato REMS
enrolment, and the course of a scale as an image.

Sections a role may not see are left out of the page (``actor.can``), and the services refuse anyway. Bad input
re-renders the chart with the message in the form's section and changes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..clinic.costs import CostEstimate
from ..clinic.exceptions import InvalidAnswerError
from ..clinic.scales import SCALES, get_scale
from ..clinic.screening import SRC_MAUDSLEY, SRC_THASE_RUSH, SRC_TRD
from ..clinic.sessions import SessionKind
from ..plots.scores import ForecastOverlay, score_course_png
from ..services.accounts.questionnaire_links import LINK_SCALES, create_questionnaire_link, questionnaire_link_url
from ..services.authorization import Actor, Permission
from ..services.billing import course_cost_of, coverage_of, plan_estimate
from ..services.dashboard import SAFETY_FLAGS
from ..services.forecast import FORECAST_SCALES
from ..services.outcomes import booster_advice, course_of
from ..services.patients import get_patient, record_consent, record_scale, scales_for
from ..services.plans import plans_for
from ..services.ports import ConflictError
from ..services.rems_forms import enroll_patient, enrollment_of, form_statuses
from ..services.screenings import screenings_for
from ..services.treatment import sessions_for
from .base import CallerDep, ContextDep, form_actor
from .display import clinic_today, render_page
from .forecast_pages import forecast_overlay, try_forecast
from .forms import FormDep, error_values, field_text, is_checked, parse_date, parse_int

router = APIRouter()

COURSE_SCALES = ("MADRS", "PHQ-9", "GAD-7", "QIDS-SR16")
"""Scales whose course the chart summarises (when the patient has any)."""
CHART_SCALES = ("MADRS", "PHQ-9")
"""Scales drawn as a course image on the chart."""

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
    settings, today, fmt = clinic_today(ctx)
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
    out["forecast_scales"] = FORECAST_SCALES
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
        out["coverage"], _ = coverage_of(ctx.new_uow(), actor, patient_id)
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
    return render_page(request, "chart.html", who, status_code, errors=errors or ChartErrors(), new_link=new_link,
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
    pf, _ = try_forecast(ctx, who.actor, patient_id, scale.id)
    overlay = None
    if pf is not None:
        settings, _, _ = clinic_today(ctx)
        overlay = forecast_overlay(pf, ZoneInfo(settings.timezone))
    return Response(_course_png(scale.id, tuple(sorted(by_day.items())), overlay), media_type="image/png")


@lru_cache(maxsize=128)
def _course_png(scale_id: str, points: tuple[tuple[date, int], ...], forecast: ForecastOverlay | None) -> bytes:
    """The course image, with the forecast where given (drawing takes ~0.2 s; the same totals and forecast give the
    same image, so keep the last few)."""
    scale = get_scale(scale_id)
    baseline = points[0][1] if points else None
    response_line = baseline / 2 if baseline is not None and scale.has_response_rule else None
    return score_course_png(points, scale.id, baseline, response_line, scale.remission_max, f"{scale.id} course",
                            forecast)  # fmt: skip


@router.post("/patients/{patient_id}/questionnaire-link")
def questionnaire_link(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID,
                       form: FormDep) -> HTMLResponse:  # fmt: skip
    """Create a single-use PHQ-9/GAD-7 link for the patient and show its URL once."""
    actor = form_actor(request, who, form)
    scale_id = field_text(form, "scale_id")
    partial = request.headers.get("hx-request") == "true"
    questionnaire_link_url(ctx.settings.public_url, "")  # refuse before creating a link that cannot be sent
    try:
        token = create_questionnaire_link(ctx.new_uow(), actor, patient_id, scale_id)
    except InvalidAnswerError as exc:
        if partial:
            return render_page(request, "_link.html", who, 422, patient_id=patient_id, link_error=error_values(exc),
                               link_scales=LINK_SCALES, new_link=None)  # fmt: skip
        return _chart_page(request, who, ctx, patient_id, ChartErrors(link=error_values(exc)), status_code=422)
    new_link = {"url": questionnaire_link_url(ctx.settings.public_url, token), "scale_id": scale_id}
    if partial:
        return render_page(request, "_link.html", who, patient_id=patient_id, new_link=new_link, link_error=None,
                           link_scales=LINK_SCALES)  # fmt: skip
    return _chart_page(request, who, ctx, patient_id, new_link=new_link)


@router.post("/patients/{patient_id}/scales", response_model=None)
def record_scale_submit(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID,
                        form: FormDep) -> Response:  # fmt: skip
    """Record a clinician-rated MADRS item by item."""
    actor = form_actor(request, who, form)
    scale = get_scale("MADRS")
    values = {f"item{i}": field_text(form, f"item{i}") for i in range(1, len(scale.items) + 1)}
    values["taken_on"] = field_text(form, "taken_on")
    try:
        taken_on = parse_date(values["taken_on"], "taken_on")
        answers = [parse_int(values[f"item{i}"], f"item {i} ({MADRS_ITEMS[i - 1]})", f"{item.min}-{item.max}")
                   for i, item in enumerate(scale.items, start=1)]  # fmt: skip
        record_scale(ctx.new_uow(), actor, patient_id, scale.id, answers, taken_on, ctx.clock)
    except InvalidAnswerError as exc:
        errors = ChartErrors(scale=error_values(exc), values=values)
        return _chart_page(request, who, ctx, patient_id, errors, status_code=422)
    return RedirectResponse(f"/patients/{patient_id}#scales", status_code=303)


@router.post("/patients/{patient_id}/consents", response_model=None)
def consent_submit(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID,
                   form: FormDep) -> Response:  # fmt: skip
    """File a signed consent document (a new version of the patient's record)."""
    actor = form_actor(request, who, form)
    values = {"document": field_text(form, "document"), "signed_on": field_text(form, "signed_on")}
    try:
        signed_on = parse_date(values["signed_on"], "signed_on")
        version = parse_int(field_text(form, "version"), "version", "the record's version")
        record_consent(ctx.new_uow(), actor, patient_id, version, values["document"], signed_on, clock=ctx.clock)
    except InvalidAnswerError as exc:
        return _chart_page(
            request, who, ctx, patient_id, ChartErrors(consent=error_values(exc), values=values), status_code=422
        )
    except ConflictError:
        stale = InvalidAnswerError("version", "someone else changed this record: check it and file again")
        return _chart_page(
            request, who, ctx, patient_id, ChartErrors(consent=error_values(stale), values=values), status_code=409
        )
    return RedirectResponse(f"/patients/{patient_id}#consents", status_code=303)


@router.post("/patients/{patient_id}/rems-enrollment", response_model=None)
def rems_enrollment_submit(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID,
                           form: FormDep) -> Response:  # fmt: skip
    """Record the signed Spravato REMS Patient Enrollment Form."""
    actor = form_actor(request, who, form)
    try:
        enrolled_on = parse_date(field_text(form, "enrolled_on"), "enrolled_on")
        enroll_patient(ctx.new_uow(), actor, patient_id, enrolled_on, patient_signed=is_checked(form, "patient_signed"),
                       prescriber_signed=is_checked(form, "prescriber_signed"))  # fmt: skip
    except InvalidAnswerError as exc:
        return _chart_page(request, who, ctx, patient_id, ChartErrors(rems=error_values(exc)), status_code=422)
    return RedirectResponse(f"/patients/{patient_id}#rems", status_code=303)
