"""Validation of a :class:`~.contract.ForecastRequest`: every problem raises ``InvalidInputError`` naming the field."""

from __future__ import annotations

import math

from ..exceptions import InvalidInputError
from ..models import default_model, drugs
from ..regimen import parse_route
from ..response.observation import SCALES, scale_code, scale_table
from .contract import Dose, ForecastRequest, Rating

MAX_HORIZON_DAYS = 365.0
MAX_DRAWS = 20_000
PHQ9 = "phq-9"


def _finite(field: str, value: float, allowed: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(field, f"must be a finite number, got {value!r}", allowed)


def check_scale(field: str, scale: str) -> None:
    """Raise unless the rating model covers ``scale``."""
    if scale == PHQ9 and PHQ9 not in SCALES:
        raise InvalidInputError(
            field, "PHQ-9 has no link to MADRS in the response model's rating model yet", ", ".join(SCALES)
        )
    if scale not in SCALES:
        raise InvalidInputError(field, f"unknown scale {scale!r}", ", ".join(SCALES))


def check_dose_form(dose: Dose, field: str) -> None:
    """Raise unless ``dose`` names a drug and route the PK core models, with a positive amount."""
    _finite(f"{field}.time_h", dose.time_h, ">= 0 h")
    if dose.time_h < 0:
        raise InvalidInputError(f"{field}.time_h", f"got {dose.time_h:g}", ">= 0 h")
    if dose.drug not in drugs():
        raise InvalidInputError(f"{field}.drug", f"unknown drug {dose.drug!r}", ", ".join(drugs()))
    try:
        route = parse_route(dose.route)
    except InvalidInputError as error:
        raise InvalidInputError(f"{field}.route", error.message, error.allowed) from None
    model = default_model(dose.drug)
    if route not in model.routes:
        allowed = ", ".join(r.value for r in model.routes)
        raise InvalidInputError(f"{field}.route", f"{route.value} is not modelled for {dose.drug}", allowed)
    _finite(f"{field}.amount_mg", dose.amount_mg, "> 0 mg")
    if dose.amount_mg <= 0:
        raise InvalidInputError(f"{field}.amount_mg", f"got {dose.amount_mg:g}", "> 0 mg")
    _finite(f"{field}.duration_min", dose.duration_min, ">= 0 min")
    if dose.duration_min < 0 or (dose.duration_min > 0 and route.value != "iv"):
        raise InvalidInputError(f"{field}.duration_min", f"got {dose.duration_min:g}", ">= 0 min, > 0 only for iv")


def check_rating(rating: Rating, field: str) -> None:
    """Raise unless ``rating`` is a whole number within its scale's range at a finite time >= 0."""
    _finite(f"{field}.time_h", rating.time_h, ">= 0 h")
    if rating.time_h < 0:
        raise InvalidInputError(f"{field}.time_h", f"got {rating.time_h:g}", ">= 0 h")
    check_scale(f"{field}.scale", rating.scale)
    low, high = scale_table(1.0)[scale_code(rating.scale), 2:4]
    value = rating.value
    allowed = f"whole numbers {low:g}-{high:g} on {rating.scale}"
    _finite(f"{field}.value", value, allowed)
    if value != round(value) or not low <= value <= high:
        raise InvalidInputError(f"{field}.value", f"got {value!r}", allowed)


def validate(request: ForecastRequest) -> None:
    """Raise :class:`InvalidInputError` on the first problem of ``request``."""
    c = request.covariates
    if c.weight_kg is not None:
        _finite("covariates.weight_kg", c.weight_kg, "kg")
    if c.age_y is not None:
        _finite("covariates.age_y", c.age_y, "years")
    if c.sex not in (None, "female", "male"):
        raise InvalidInputError("covariates.sex", f"got {c.sex!r}", "female, male or unknown")
    for k, dose in enumerate(request.doses):
        check_dose_form(dose, f"doses[{k}]")
        if k and dose.time_h < request.doses[k - 1].time_h:
            raise InvalidInputError(f"doses[{k}].time_h", "doses are out of time order", "ascending times")
    for k, rating in enumerate(request.ratings):
        check_rating(rating, f"ratings[{k}]")
        if k and rating.time_h < request.ratings[k - 1].time_h:
            raise InvalidInputError(f"ratings[{k}].time_h", "ratings are out of time order", "ascending times")
    check_scale("scale", request.scale)
    _finite("horizon_days", request.horizon_days, f"1-{MAX_HORIZON_DAYS:g} days")
    if not 1.0 <= request.horizon_days <= MAX_HORIZON_DAYS:
        raise InvalidInputError("horizon_days", f"got {request.horizon_days:g}", f"1-{MAX_HORIZON_DAYS:g} days")
    _finite("alpha", request.alpha, "0 < alpha < 1")
    if not 0.0 < request.alpha < 1.0:
        raise InvalidInputError("alpha", f"got {request.alpha:g}", "0 < alpha < 1")
    if isinstance(request.n_draws, bool) or not isinstance(request.n_draws, int):
        raise InvalidInputError("n_draws", f"got {request.n_draws!r}", f"whole number 100-{MAX_DRAWS}")
    if not 100 <= request.n_draws <= MAX_DRAWS:
        raise InvalidInputError("n_draws", f"got {request.n_draws}", f"100-{MAX_DRAWS}")
    for k, candidate in enumerate(request.candidates):
        if not candidate.doses:
            raise InvalidInputError(f"candidates[{k}].doses", "a candidate needs at least one dose", ">= 1 dose")
        for j, dose in enumerate(candidate.doses):
            check_dose_form(dose, f"candidates[{k}].doses[{j}]")
