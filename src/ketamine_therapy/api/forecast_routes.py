"""A patient's forecast: the course of a scale with 50% and 90% bands, relapse risk, booster advice (the model's
and the clinic's rules), a what-if table and how far the patient's own data moved the model (docs/api.md)."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from ..clinic.exceptions import InvalidAnswerError
from ..clinic.protocols.boosters import BoosterRecommendation
from ..http.auth import ActorDep, ContextDep
from ..pharmacology.forecast import Dose
from ..services.forecast import (
    CANDIDATE_FORMAT,
    FORECAST_SCALES,
    MAX_CANDIDATES,
    ForecastOptions,
    PatientForecast,
    parse_candidate,
    patient_forecast,
)
from ..validation.quantities import HorizonDaysQuery, RelapseRiskQuery

router = APIRouter(tags=["forecast"])


def _scale(value: str) -> str:
    if value not in FORECAST_SCALES:
        raise PydanticCustomError("choice", "no forecast on {value!r} (allowed: {allowed})",
                                  {"value": value, "allowed": ", ".join(FORECAST_SCALES)})  # fmt: skip
    return value


def _candidate(value: str) -> str:
    try:
        return parse_candidate(value).text
    except InvalidAnswerError as exc:
        context = {"message": exc.message, "allowed": exc.allowed or CANDIDATE_FORMAT}
        raise PydanticCustomError("candidate", "{message} (allowed: {allowed})", context) from None


ScaleQuery = Annotated[str, Field(description="the scale of the band", json_schema_extra={"enum": [*FORECAST_SCALES]}),
                       AfterValidator(_scale)]  # fmt: skip
CandidateQuery = Annotated[str, Field(max_length=24, description=CANDIDATE_FORMAT,
                                      json_schema_extra={"pattern": r"^\d{1,4}d:\d{1,3}(\.\d{1,3})?(mgkg|mg)$"}),
                           AfterValidator(_candidate)]  # fmt: skip


class BandOut(BaseModel):
    """The predicted observed score (what a rating would show) at each time: median, 50% and 90% bands."""

    times: list[datetime]
    median: list[float]
    p05: list[float]
    p25: list[float]
    p75: list[float]
    p95: list[float]


class RelapseOut(BaseModel):
    """P(relapse by each time), non-decreasing; the median relapse time and its 90% interval where the horizon
    holds them (null otherwise)."""

    times: list[datetime]
    probability: list[float]
    median: datetime | None
    interval: tuple[datetime, datetime] | None
    definition: str


class DoseOut(BaseModel):
    """One dose: when, drug and route (the PK core's names), mg, infusion minutes (0: not infused)."""

    at: datetime
    drug: str
    route: str
    amount_mg: float
    duration_min: float


class ModelAdviceOut(BaseModel):
    """The model's booster advice: the latest next session keeping P(relapse before it) <= ``alpha``."""

    next_session_by: datetime | None
    interval_days: float | None = Field(description="days after the last session")
    dose: DoseOut | None
    alpha: float
    alpha_source: str
    rationale: str


class BoosterOut(BaseModel):
    """The model's advice beside the clinic's rule-based advice (null with ``clinic_rules_note`` saying why)."""

    model: ModelAdviceOut
    clinic_rules: BoosterRecommendation | None
    clinic_rules_note: str


class WhatIfOut(BaseModel):
    """One candidate schedule: P(relapse by the horizon) and the expected score at the horizon."""

    label: str
    doses: list[DoseOut]
    relapse_by_horizon: float
    expected_score_at_horizon: float


class InputsOut(BaseModel):
    """What the forecast was built from (the record's doses and scores; covariates null where unknown)."""

    origin: datetime = Field(description="time 0 of the model: the first dose")
    forecast_start: datetime = Field(description="the later of the last score and the last dose")
    weight_kg: float | None
    age_y: float | None
    sex: str | None
    doses: int
    ratings: int
    last_session: datetime | None
    horizon_days: float
    notes: list[str]


class ForecastOut(BaseModel):
    """A patient's forecast (decision support: read ``notice``)."""

    patient_id: uuid.UUID
    scale_id: str
    model_version: str
    input_hash: str
    inputs: InputsOut
    band: BandOut
    relapse: RelapseOut
    booster: BoosterOut
    what_if: list[WhatIfOut]
    shrinkage: dict[str, float] = Field(
        description="per random effect: 1 - posterior SD / prior SD (0: the patient's data moved nothing; 1: all)"
    )
    n_ratings: int
    prior_only: bool
    warnings: list[str]
    notice: str

    @classmethod
    def of(cls, pf: PatientForecast) -> ForecastOut:
        f, r = pf.result, pf.request
        times = [pf.at(t) for t in f.band.times_h]
        b, rel, adv = f.band, f.relapse, f.booster

        def dose(d: Dose, base_h: float = 0.0) -> DoseOut:
            return DoseOut(at=pf.at(base_h + d.time_h), drug=d.drug, route=d.route, amount_mg=_num(d.amount_mg),
                           duration_min=_num(d.duration_min))  # fmt: skip

        start_h = (pf.start - pf.origin).total_seconds() / 3600.0
        return cls(
            patient_id=pf.patient_id, scale_id=pf.scale_id, model_version=f.model_version, input_hash=f.input_hash,
            inputs=InputsOut(origin=pf.origin, forecast_start=pf.start, weight_kg=r.covariates.weight_kg,
                             age_y=r.covariates.age_y, sex=r.covariates.sex, doses=len(r.doses),
                             ratings=len(r.ratings), last_session=pf.last_session, horizon_days=r.horizon_days,
                             notes=list(pf.notes)),
            band=BandOut(times=times, median=_nums(b.median), p05=_nums(b.p05), p25=_nums(b.p25),
                         p75=_nums(b.p75), p95=_nums(b.p95)),
            relapse=RelapseOut(times=[pf.at(t) for t in rel.times_h], probability=_nums(rel.probability),
                               median=None if rel.median_h is None else pf.at(rel.median_h),
                               interval=None if rel.interval_h is None
                               else (pf.at(rel.interval_h[0]), pf.at(rel.interval_h[1])),
                               definition=rel.definition),
            booster=BoosterOut(
                model=ModelAdviceOut(next_session_by=None if adv.next_session_h is None else pf.at(adv.next_session_h),
                                     interval_days=adv.interval_days, dose=None if adv.dose is None else dose(adv.dose),
                                     alpha=adv.alpha, alpha_source=pf.alpha_source, rationale=adv.rationale),
                clinic_rules=pf.rule_advice, clinic_rules_note=pf.rule_note),
            what_if=[WhatIfOut(label=w.candidate.label, doses=[dose(d, start_h) for d in w.candidate.doses],
                               relapse_by_horizon=_num(w.relapse_by_horizon),
                               expected_score_at_horizon=_num(w.expected_score_at_horizon)) for w in f.what_if],
            shrinkage={k: _num(v) for k, v in f.shrinkage.items()}, n_ratings=f.n_ratings, prior_only=f.prior_only,
            warnings=list(f.warnings), notice=pf.notice,
        )  # fmt: skip


def _num(value: Any) -> float:
    """A finite float (JSON has no NaN): a non-finite engine value is a bug, not something to send."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"non-finite forecast value {number!r}")
    return number


def _nums(values: Any) -> list[float]:
    return [_num(v) for v in values]


@router.get("/patients/{patient_id}/forecast")
def get_forecast(
    patient_id: uuid.UUID, actor: ActorDep, ctx: ContextDep,
    scale_id: Annotated[ScaleQuery, Query()] = "MADRS",
    horizon_days: Annotated[HorizonDaysQuery, Query()] = 84,
    alpha: Annotated[RelapseRiskQuery | None, Query(description="default: the clinic's forecast_relapse_alpha")] = None,
    candidate: Annotated[list[CandidateQuery] | None,
                         Query(max_length=MAX_CANDIDATES, description="what-if boosters (repeatable)")] = None,
) -> ForecastOut:  # fmt: skip
    """The patient's forecast on a scale over ``horizon_days`` (prescribers and nurses; audited as a read)."""
    options = ForecastOptions(scale_id, horizon_days, alpha, tuple(parse_candidate(c) for c in candidate or ()))
    return ForecastOut.of(patient_forecast(ctx.new_uow(), actor, patient_id, options, clock=ctx.clock))
