"""Research pages: a PK simulation with its plot, in-silico trials run as background jobs, de-identified outcomes.

Researchers and prescribers (``research:run``) simulate and run trials; only researchers
(``research:deidentified``) see the outcomes table, which never holds a name, contact or date. The services
check every permission; these pages only translate forms and render results.

A simulation is a GET (it changes nothing), so its address can be bookmarked; the page embeds the plot as a
``data:`` URI computed from the same report as the summary, and ``/research/simulation.png`` draws the same
simulation (the page pins the seed in that link) for download. Trials run on the app's job runner
(``ctx.jobs``): the job page polls its progress with HTMX every second and shows the results when it is done.
"""

from __future__ import annotations

import base64
import json
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..clinic.exceptions import InvalidAnswerError
from ..errors import FieldError
from ..http.auth import Caller
from ..http.context import AppContext
from ..pharmacology.exceptions import InvalidInputError
from ..pharmacology.models import drugs, list_models
from ..pharmacology.trials import Estimate, TrialResult
from ..pharmacology.trials.example_specs import example_specs
from ..plots.pk import pk_report_png
from ..plots.trials import trial_png
from ..services import research
from ..services.authorization import Permission
from ..services.clinic_settings import get_settings
from ..services.jobs import JobStatus
from ..services.pk_report import DISCLAIMER, PKReport
from ..services.research_data import DeidentifiedCourse, deidentified_courses
from ..validation.trial_spec import read_spec_document, read_trial_spec
from .base import CallerDep, ContextDep, form_actor, render
from .forms import TextFormDep

router = APIRouter()

SIMULATION_DEFAULTS = {"drug": "racemic-ketamine", "route": "iv", "dose": "0.5", "dose_unit": "mg_per_kg",
                       "duration_min": "40", "n_subjects": "500", "hours": "24", "seed": "", "weight_kg": "70",
                       "age_y": "40", "female": "false", "model": ""}  # fmt: skip
"""What the simulation form shows first: the IV standard of clinical.md §1b (0.5 mg/kg over 40 min)."""
METRICS = (
    ("cmax_ng_ml", "Cmax", "ng/mL", "{:.1f}"),
    ("cmax_um", "Cmax", "µM", "{:.3f}"),
    ("tmax_h", "Tmax", "h", "{:.2f}"),
    ("auc_ng_h_ml", "AUC", "ng·h/mL", "{:.0f}"),
)
DEIDENTIFICATION_NOTE = (
    "De-identified by removal: no names, contacts, birth dates or calendar dates; pseudonyms are keyed hashes, ages "
    "are 10-year bands and days count from each patient's baseline. This is not anonymisation: in a small clinic a "
    "row may still be re-identifiable, so treat the table as confidential."
)


# -- simulation -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricRow:
    label: str
    unit: str
    typical: str
    p5: str
    p50: str
    p95: str


def _simulation_fields(params: Mapping[str, str]) -> dict[str, str]:
    """The form's values in :class:`SimulationRequest` field names (``dose`` + ``dose_unit`` -> the dose field)."""
    values = {key: value.strip() for key, value in params.items()}
    if values.get("route", "iv") != "iv":
        values.pop("duration_min", None)  # the form always sends the IV infusion time; other routes have none
    dose, unit = values.pop("dose", ""), values.pop("dose_unit", "mg_per_kg")
    if dose:
        if unit not in ("mg", "mg_per_kg"):
            raise InvalidAnswerError("dose_unit", f"unknown unit {unit!r}", "mg, mg_per_kg")
        values[f"dose_{unit}"] = dose
    return values


def _form_values(params: Mapping[str, str]) -> dict[str, str]:
    """What the simulation form shows: the submitted values over the defaults.

    A canonical link (``dose_mg=...``) is shown as dose + unit; a query without any dose asks for the drug's
    default dose, so the dose field is then left empty.
    """
    values = {**SIMULATION_DEFAULTS, **{k: v for k, v in params.items() if k in SIMULATION_DEFAULTS}}
    if params and "dose" not in params:
        values["dose"] = ""
        for unit in ("mg", "mg_per_kg"):
            if params.get(f"dose_{unit}"):
                values.update(dose=params[f"dose_{unit}"], dose_unit=unit)
    return values


def _metric_rows(report: PKReport, analyte: str) -> list[MetricRow]:
    typical = report.metrics[analyte]
    spread = report.percentiles.get(analyte, {})
    rows = []
    for key, label, unit, fmt in METRICS:
        p = spread.get(key, {})
        p5, p50, p95 = (fmt.format(p[q]) if q in p else "" for q in ("p5", "p50", "p95"))
        rows.append(MetricRow(label, unit, fmt.format(typical[key]), p5, p50, p95))
    return rows


def _simulation_query(request: research.SimulationRequest, seed: int | None) -> str:
    """The canonical query of ``request`` with the seed the report used (the PNG link draws the same subjects)."""
    pairs: dict[str, Any] = {"route": request.route, "drug": request.drug, "n_subjects": request.n_subjects,
                             "hours": request.hours, "weight_kg": request.weight_kg, "age_y": request.age_y,
                             "female": "true" if request.female else "false"}  # fmt: skip
    for name in ("model", "dose_mg_per_kg", "dose_mg", "duration_min"):
        value = getattr(request, name)
        if value is not None:
            pairs[name] = value
    if seed is not None:
        pairs["seed"] = seed
    return urlencode({k: f"{v:g}" if isinstance(v, float) else v for k, v in pairs.items()})


def _models() -> list[tuple[str, str, str]]:
    return [(m.id, m.drug, m.name) for m in list_models()]


def _research_page(
    request: Request, who: Caller, ctx: AppContext, *, status_code: int = 200, **values: Any
) -> HTMLResponse:
    actor = who.actor
    settings, _ = get_settings(ctx.new_uow())
    tz = zoneinfo.ZoneInfo(settings.timezone)
    jobs = research.list_trials(actor, ctx.jobs)
    context: dict[str, Any] = {
        "drugs": list(drugs()),
        "models": _models(),
        "routes": research.ROUTES,
        "routes_by_model": research.routes_by_model(),
        "examples": list(example_specs()),
        "jobs": jobs,
        "local": lambda at: "" if at is None else at.astimezone(tz).strftime("%d %b %H:%M"),
        "can_see_outcomes": actor.can(Permission.DEIDENTIFIED_READ),
        "sim": _form_values({}),
        "trial": {"example": next(iter(example_specs()), ""), "spec": "", "format": "yaml", "n": ""},
        "error": None,
        "report": None,
        "limits": {
            "subjects": research.MAX_SUBJECTS,
            "hours": research.MAX_HOURS,
            "trial_patients": research.MAX_TRIAL_PATIENTS,
        },
        "disclaimer": DISCLAIMER,
    }
    context.update(values)
    return render(request, "research.html", who, status_code=status_code, **context)


@router.get("/research", response_class=HTMLResponse)
def research_page(request: Request, who: CallerDep, ctx: ContextDep) -> HTMLResponse:
    """Simulation and trial forms, and the user's trial jobs."""
    who.actor.require(Permission.RESEARCH_RUN)
    return _research_page(request, who, ctx)


@router.get("/research/simulation", response_class=HTMLResponse)
def simulation_page(request: Request, who: CallerDep, ctx: ContextDep) -> HTMLResponse:
    """Run the simulation described by the query and show its summary and plot (the form stays filled in)."""
    who.actor.require(Permission.RESEARCH_RUN)
    params = dict(request.query_params)
    shown = _form_values(params)
    try:
        sim = research.SimulationRequest.from_form(_simulation_fields(params))
        report = research.run_simulation(who.actor, sim)
    except InvalidAnswerError as exc:
        error = {"form": "simulation", "field": exc.field, "message": str(exc)}
        return _research_page(request, who, ctx, status_code=422, sim=shown, error=error)
    png = base64.b64encode(pk_report_png(report)).decode("ascii")
    shown["seed"] = str(report.scenario.seed)
    analytes = [(a, _metric_rows(report, a)) for a in report.typical.analytes]
    notes = [n for n in report.notes if not n.startswith(f"model {report.model.id}:")]  # the reference is shown above
    return _research_page(request, who, ctx, sim=shown, report=report, analytes=analytes, notes=notes, plot_data=png,
                          png_query=_simulation_query(sim, report.scenario.seed))  # fmt: skip


@router.get("/research/simulation.png")
def simulation_png(request: Request, who: CallerDep) -> Response:
    """The concentration-time plot of the simulation in the query (PNG, 800 px wide)."""
    who.actor.require(Permission.RESEARCH_RUN)
    sim = research.SimulationRequest.from_form(_simulation_fields(dict(request.query_params)))
    return Response(pk_report_png(research.run_simulation(who.actor, sim)), media_type="image/png")


# -- trials -----------------------------------------------------------------------------------------------------


def _with_n(spec_text: str, fmt: str, n: str) -> tuple[str, str]:
    """The spec with ``population.n`` replaced by ``n`` (as JSON); unchanged when it cannot be read here."""
    try:
        patients = int(n)
    except ValueError:
        raise InvalidAnswerError("n", f"{n!r} is not a whole number", "patients per arm, e.g. 500") from None
    try:
        data = read_spec_document(spec_text, fmt)  # the one safe reader: no aliases, bounded depth and size
    except InvalidInputError:
        return spec_text, fmt  # the service reports the error
    if not isinstance(data, dict) or not isinstance(data.get("population"), dict):
        return spec_text, fmt
    data["population"]["n"] = patients
    return json.dumps(data, default=str), "json"


@router.post("/research/trials", response_model=None)
def start_trial(request: Request, who: CallerDep, ctx: ContextDep, form: TextFormDep) -> Response:
    """Validate the spec (an example or pasted text) and start the trial as a background job."""
    actor = form_actor(request, who, form)
    actor.require(Permission.RESEARCH_RUN)
    example, pasted = form.get("example", ""), form.get("spec", "")
    fmt = form.get("format", "yaml") or "yaml"
    shown = {"example": example, "spec": pasted, "format": fmt, "n": form.get("n", "").strip()}
    try:
        if pasted.strip():
            text = pasted
        else:
            examples = example_specs()
            if example not in examples:
                raise InvalidAnswerError("example", f"unknown example {example!r}", ", ".join(examples) or "none")
            text, fmt = examples[example].read_text("utf-8"), "yaml"
        if shown["n"]:
            text, fmt = _with_n(text, fmt, shown["n"])
        job_id = research.start_trial(actor, ctx.jobs, read_trial_spec(text, fmt))
    except FieldError as exc:
        error = {"form": "trial", "field": exc.field, "message": str(exc)}
        return _research_page(request, who, ctx, status_code=422, trial=shown, error=error)
    return RedirectResponse(f"/research/jobs/{job_id}", status_code=303)


def _estimate(kind: str, value: Estimate) -> tuple[str, str]:
    """An estimate and its 95% interval in the endpoint's unit."""
    estimate, low, high = value.formatted(kind)
    return estimate, f"{low} to {high}"


@dataclass(frozen=True)
class EndpointRow:
    id: str
    kind: str
    cells: tuple[tuple[str, str], ...]


def _result_rows(result: TrialResult) -> list[EndpointRow]:
    return [EndpointRow(endpoint, kind, tuple(_estimate(kind, arm.endpoints[endpoint]) for arm in result.arms))
            for endpoint, kind in result.endpoint_kinds.items()]  # fmt: skip


def _prices(prices: tuple[float, ...] | None) -> str:
    """An arm's session prices in a few words: ``6 × $450``, or the count and the total when they differ."""
    if not prices:
        return "–"
    if len(set(prices)) == 1:
        return f"{len(prices)} × ${prices[0]:,.0f}"
    return f"{len(prices)} sessions, ${sum(prices):,.0f}"


def _job_values(status: JobStatus) -> dict[str, Any]:
    result = status.result if status.state == "done" and isinstance(status.result, TrialResult) else None
    prices = [_prices(arm.session_prices_usd) for arm in result.arms] if result else []
    return {"job": status, "result": result, "rows": _result_rows(result) if result else [],
            "prices": prices if any(p != "–" for p in prices) else [],
            "percent": round(100 * status.fraction)}  # fmt: skip


@router.get("/research/jobs/{job_id}.png")
def job_png(who: CallerDep, ctx: ContextDep, job_id: str) -> Response:
    """The finished trial's mean MADRS course per arm (PNG, 800 px wide)."""
    status = research.trial_status(who.actor, ctx.jobs, job_id)
    return Response(trial_png(research.trial_result(status)), media_type="image/png")


@router.get("/research/jobs/{job_id}.json")
def job_json(who: CallerDep, ctx: ContextDep, job_id: str) -> JSONResponse:
    """The finished trial's results as ``ketamine-therapy trial run --json`` prints them."""
    status = research.trial_status(who.actor, ctx.jobs, job_id)
    return JSONResponse(research.trial_result_json(status))


@router.get("/research/jobs/{job_id}/progress", response_class=HTMLResponse)
def job_progress(request: Request, who: CallerDep, ctx: ContextDep, job_id: str) -> HTMLResponse:
    """The job's progress (and its results once done), polled by the job page every second."""
    status = research.trial_status(who.actor, ctx.jobs, job_id)
    return render(request, "_research_job.html", who, **_job_values(status))


@router.get("/research/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, who: CallerDep, ctx: ContextDep, job_id: str) -> HTMLResponse:
    """One trial job: progress while it runs, then the per-arm results and the plot."""
    status = research.trial_status(who.actor, ctx.jobs, job_id)
    settings, _ = get_settings(ctx.new_uow())
    submitted = status.submitted_at.astimezone(zoneinfo.ZoneInfo(settings.timezone)).strftime("%d %b %Y %H:%M")
    return render(request, "research_job.html", who, submitted=submitted, disclaimer=DISCLAIMER,
                  **_job_values(status))  # fmt: skip


# -- de-identified outcomes -------------------------------------------------------------------------------------


@router.get("/research/outcomes", response_class=HTMLResponse)
def outcomes_page(request: Request, who: CallerDep, ctx: ContextDep) -> HTMLResponse:
    """Every patient's MADRS course without identifiers (researchers only)."""
    courses: list[DeidentifiedCourse] = deidentified_courses(ctx.new_uow(), who.actor, ctx.pseudonym_key)
    responders = sum(1 for c in courses if c.in_response)
    remitters = sum(1 for c in courses if c.in_remission)
    return render(request, "research_outcomes.html", who, courses=courses, note=DEIDENTIFICATION_NOTE,
                  responders=responders, remitters=remitters)  # fmt: skip
