"""The chart's forecast section: the model's booster advice beside the clinic's rules, the relapse risk, a what-if
table and how much the patient's own data moved the forecast, in plain words; and the band drawn on the score chart.

The chart page does not wait for the forecast: the section is fetched after the page has loaded (htmx,
``hx-trigger="load"``), and the band is drawn into the score-chart image, itself a separate request. Without
JavaScript the section is a link to the same view as a page of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..clinic.exceptions import InvalidAnswerError
from ..pharmacology.exceptions import InvalidInputError
from ..plots.scores import ForecastOverlay
from ..services.authorization import Actor, Permission
from ..services.forecast import FORECAST_SCALES, ForecastOptions, PatientForecast, patient_forecast
from ..services.patients import get_patient
from .base import CallerDep, ContextDep
from .display import clinic_today, render_page

router = APIRouter()

EFFECT_NAMES = {
    "baseline": "how depressed the patient was before treatment",
    "drug_emax": "how strongly the patient responds to ketamine",
    "drug_decay": "how fast the effect of a session fades",
    "expectancy": "the short lift each session gives apart from the drug",
    "placebo": "the lasting improvement apart from the drug",
    "background": "the effect of a new oral antidepressant",
}
"""Plain words for the model's random effects (others are shown by their model name)."""


def _moved(fraction: float) -> str:
    """Shrinkage in words: how far the patient's data narrowed the model's uncertainty about one effect."""
    if fraction < 0.1:
        return "hardly at all"
    if fraction < 0.4:
        return "a little"
    if fraction < 0.7:
        return "considerably"
    return "strongly"


@dataclass(frozen=True)
class ShrinkageRow:
    """One random effect: plain name, percent by which the patient's data narrowed it, and that in words."""

    name: str
    percent: float
    words: str


@dataclass(frozen=True)
class ForecastView:
    """What the forecast section shows, in the clinic's time zone."""

    pf: PatientForecast
    tz: ZoneInfo

    def local(self, at: datetime) -> datetime:
        """A UTC time in the clinic's time zone."""
        return at.astimezone(self.tz)

    def day(self, at: datetime | None) -> str:
        """A time as the clinic's date, ``Mon 12 Jan 2027``."""
        return "" if at is None else self.local(at).strftime("%a %d %b %Y")

    @property
    def next_session_by(self) -> datetime | None:
        h = self.pf.result.booster.next_session_h
        return None if h is None else self.pf.at(h)

    @property
    def due_now(self) -> bool:
        """Whether the model's next session is already due (the risk is above alpha at the first assessment)."""
        h = self.pf.result.booster.next_session_h
        return h is not None and self.pf.at(h) <= self.pf.start

    @property
    def relapse_median(self) -> datetime | None:
        h = self.pf.result.relapse.median_h
        return None if h is None else self.pf.at(h)

    @property
    def relapse_interval(self) -> tuple[datetime, datetime] | None:
        interval = self.pf.result.relapse.interval_h
        return None if interval is None else (self.pf.at(interval[0]), self.pf.at(interval[1]))

    @property
    def risk_at_horizon(self) -> float:
        """P(relapse by the end of the horizon), percent."""
        probability = self.pf.result.relapse.probability
        return float(probability[-1]) * 100.0 if len(probability) else 0.0

    @property
    def horizon_end(self) -> datetime:
        return self.pf.at(float(self.pf.result.band.times_h[-1])) if len(self.pf.result.band.times_h) else self.pf.start

    @property
    def shrinkage(self) -> list[ShrinkageRow]:
        rows = []
        for name, value in self.pf.result.shrinkage.items():
            fraction = min(max(float(value), 0.0), 1.0)
            rows.append(ShrinkageRow(EFFECT_NAMES.get(name, name.replace("_", " ")), fraction * 100, _moved(fraction)))
        return rows


def forecast_overlay(pf: PatientForecast, tz: ZoneInfo) -> ForecastOverlay:
    """The forecast as the score chart draws it: from the forecast start on, at clinic-local times."""
    start_h = (pf.start - pf.origin).total_seconds() / 3600.0
    return ForecastOverlay.of(pf.result, start_h, lambda h: pf.at(h).astimezone(tz).replace(tzinfo=None))


def try_forecast(ctx: Any, actor: Actor, patient_id: uuid.UUID, scale_id: str) -> tuple[PatientForecast | None, str]:
    """The patient's forecast on ``scale_id``, or ``None`` and why (a role without it, or data it cannot use)."""
    if not actor.can(Permission.FORECAST_READ) or scale_id not in FORECAST_SCALES:
        return None, f"no forecast on {scale_id}"
    try:
        return patient_forecast(ctx.new_uow(), actor, patient_id, ForecastOptions(scale_id), clock=ctx.clock), ""
    except (InvalidAnswerError, InvalidInputError) as exc:
        return None, str(exc)


@router.get("/patients/{patient_id}/forecast")
def forecast_section(request: Request, who: CallerDep, ctx: ContextDep, patient_id: uuid.UUID) -> HTMLResponse:
    """The forecast section (an htmx fragment of the chart), or a page of its own when opened as a link."""
    who.actor.require(Permission.FORECAST_READ)
    settings, _, fmt = clinic_today(ctx)
    pf, problem = try_forecast(ctx, who.actor, patient_id, "MADRS")
    view = ForecastView(pf, ZoneInfo(settings.timezone)) if pf else None
    values: dict[str, Any] = {"view": view, "problem": problem, "patient_id": patient_id, "fmt": fmt}
    if request.headers.get("hx-request") == "true":
        return render_page(request, "_forecast.html", who, **values)
    patient, _ = get_patient(ctx.new_uow(), who.actor, patient_id)
    return render_page(request, "forecast.html", who, patient=patient, **values)
