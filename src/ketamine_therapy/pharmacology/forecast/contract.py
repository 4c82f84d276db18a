"""Public data classes of the per-patient forecast (the contract with the services, API, web and CLI).

Times are hours from an origin the caller chooses (the edges use the patient's first dose); arrays are float64.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .._typing import FloatArray


@dataclass(frozen=True)
class Covariates:
    """The patient's covariates; ``None`` = unknown, integrated over the population distribution."""

    weight_kg: float | None = None
    age_y: float | None = None
    sex: Literal["female", "male"] | None = None


@dataclass(frozen=True)
class Dose:
    """One administration: ``drug`` and ``route`` as the PK core names them, ``amount_mg`` of ketamine base,
    ``duration_min`` of an IV infusion (0 for a bolus or an extravascular dose)."""

    time_h: float
    drug: str
    route: str
    amount_mg: float
    duration_min: float = 0.0


@dataclass(frozen=True)
class Rating:
    """One rating-scale total: ``scale`` is ``"madrs"``, ``"qids-sr16"`` or ``"phq-9"``; ``value`` an integer."""

    time_h: float
    scale: str
    value: int


@dataclass(frozen=True)
class ScheduleCandidate:
    """A what-if schedule: future doses, their ``time_h`` counted from the last observation."""

    label: str
    doses: tuple[Dose, ...]


@dataclass(frozen=True)
class ForecastRequest:
    """Everything a forecast depends on (its hash identifies the forecast)."""

    covariates: Covariates
    doses: tuple[Dose, ...]
    ratings: tuple[Rating, ...]
    scale: str = "madrs"  # scale of the returned band
    horizon_days: float = 84.0  # from the last observation (or the last dose, if later)
    alpha: float = 0.2  # booster advice keeps P(relapse before the next session) <= alpha
    candidates: tuple[ScheduleCandidate, ...] = ()  # empty: the engine's default set
    n_draws: int = 1000
    seed: int = 0


@dataclass(frozen=True)
class Band:
    """Predicted *observed* score on one scale at ``times_h``: median and 5/25/75/95th percentiles."""

    times_h: FloatArray
    median: FloatArray
    p05: FloatArray
    p25: FloatArray
    p75: FloatArray
    p95: FloatArray
    scale: str = "madrs"


@dataclass(frozen=True)
class RelapseRisk:
    """P(relapse by t) at ``times_h`` (non-decreasing), the median relapse time and its 90% interval (h, within
    the horizon, else ``None``), and the relapse definition with its source."""

    times_h: FloatArray
    probability: FloatArray
    median_h: float | None
    interval_h: tuple[float, float] | None
    definition: str


@dataclass(frozen=True)
class BoosterAdvice:
    """The latest next session keeping P(relapse before it) <= ``alpha`` (``None``: not within the horizon)."""

    next_session_h: float | None
    interval_days: float | None  # the same, in days after the last session
    dose: Dose | None
    alpha: float
    rationale: str


@dataclass(frozen=True)
class WhatIf:
    """One candidate schedule's P(relapse by the horizon) and mean predicted score at the horizon."""

    candidate: ScheduleCandidate
    relapse_by_horizon: float
    expected_score_at_horizon: float


@dataclass(frozen=True)
class Forecast:
    """The forecast of one patient. ``shrinkage``: per random effect, 1 - posterior SD / prior SD."""

    model_version: str
    input_hash: str
    band: Band
    relapse: RelapseRisk
    booster: BoosterAdvice
    what_if: tuple[WhatIf, ...]
    shrinkage: dict[str, float]
    n_ratings: int
    warnings: tuple[str, ...]
    prior_only: bool
    effective_sample_size: float = field(default=float("nan"))  # distinct posterior draws (prior: n_draws)
