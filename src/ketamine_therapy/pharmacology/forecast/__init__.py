"""Per-patient Bayesian forecast of the depression course, relapse risk and booster timing (docs/forecast.md)."""

from .contract import (
    Band,
    BoosterAdvice,
    Covariates,
    Dose,
    Forecast,
    ForecastRequest,
    Rating,
    RelapseRisk,
    ScheduleCandidate,
    WhatIf,
)
from .engine import forecast
from .events import read_event_table
from .hashing import input_hash, model_version

__all__ = [
    "Band",
    "BoosterAdvice",
    "Covariates",
    "Dose",
    "Forecast",
    "ForecastRequest",
    "Rating",
    "RelapseRisk",
    "ScheduleCandidate",
    "WhatIf",
    "forecast",
    "input_hash",
    "model_version",
    "read_event_table",
]
