"""Simulate a treatment arm: PK -> effect-site NMDA occupancy -> plasticity -> MADRS course."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .._typing import FloatArray
from ..exceptions import InvalidInputError
from ..models import PKModel
from ..pd import effect_site_name, nmda_occupancy
from ..population import Covariates
from ..regimen import Dose, Regimen, Route, parse_route
from ..simulate import resolve_model, simulate_chunks
from .course import ArmCourse, logistic, plasticity
from .parameters import N_RANDOM_EFFECTS, ResponseParameters, load_parameters

ACTIVE_DRUGS = ("racemic-ketamine", "esketamine", "s-ketamine")
PLACEBO_DRUGS = ("placebo", "midazolam")
BACKGROUNDS = ("new-oral-antidepressant",)
FINE_WINDOW_H = 12.0  # occupancy is resolved every FINE_STEP_H for this long after each dose
FINE_STEP_H = 5.0 / 60.0
COARSE_STEP_H = 1.0


@dataclass(frozen=True)
class Arm:
    """One arm: a drug on study days (day 1 = first dose at t = 0), or a placebo."""

    name: str
    drug: str
    days: tuple[float, ...]
    route: Route | None = None
    dose_mg: float | None = None
    dose_mg_per_kg: float | None = None
    doses_mg: tuple[float, ...] | None = None  # per-session doses (e.g. Spravato 56 then 84 mg)
    duration_min: float = 0.0
    background: str | None = None
    background_start_day: float = 1.0
    model: str | None = None

    def __post_init__(self) -> None:
        if self.drug not in ACTIVE_DRUGS + PLACEBO_DRUGS:
            raise InvalidInputError("drug", f"unknown drug {self.drug!r}", ", ".join(ACTIVE_DRUGS + PLACEBO_DRUGS))
        if not self.days or any(d < 1 for d in self.days) or list(self.days) != sorted(set(self.days)):
            raise InvalidInputError("days", f"got {list(self.days)}", "increasing, distinct study days >= 1")
        if self.background is not None and self.background not in BACKGROUNDS:
            raise InvalidInputError("background", f"got {self.background!r}", ", ".join(BACKGROUNDS))
        if self.doses_mg is not None and len(self.doses_mg) != len(self.days):
            raise InvalidInputError("doses_mg", "needs one dose per day", f"{len(self.days)} values")
        if self.is_active:
            if self.route is None:
                object.__setattr__(self, "route", Route.IV if self.drug != "esketamine" else Route.INTRANASAL)
            elif not isinstance(self.route, Route):
                object.__setattr__(self, "route", parse_route(str(self.route)))
            given = [x is not None for x in (self.dose_mg, self.dose_mg_per_kg, self.doses_mg)]
            if sum(given) != 1:
                raise InvalidInputError("dose", "give exactly one of dose_mg, dose_mg_per_kg, doses_mg", "one")

    @property
    def is_active(self) -> bool:
        """Whether the arm gives an NMDA antagonist (not a placebo)."""
        return self.drug in ACTIVE_DRUGS

    def session_times_h(self) -> FloatArray:
        """Start of each treatment session (h after the first dose)."""
        return (np.asarray(self.days, dtype=np.float64) - 1.0) * 24.0

    def regimen(self) -> Regimen:
        """The dosing regimen of an active arm."""
        assert self.route is not None
        doses = []
        for k, t in enumerate(self.session_times_h()):
            amount = self.doses_mg[k] if self.doses_mg is not None else self.dose_mg
            doses.append(Dose(float(t), self.route, amount_mg=amount, amount_mg_per_kg=self.dose_mg_per_kg,
                              duration_h=self.duration_min / 60.0))  # fmt: skip
        return Regimen(tuple(doses))

    def pk_model(self) -> PKModel:
        """The PK model of an active arm (the drug's default unless ``model`` is set)."""
        return resolve_model(self.model, self.drug)


@dataclass(frozen=True)
class VirtualPopulation:
    """Patients: covariates, baseline MADRS and standard-normal response random effects ``(n, 4)``."""

    covariates: Covariates
    baseline_madrs: FloatArray
    response_eta: FloatArray
    pk_eta: dict[str, FloatArray] = field(default_factory=dict)  # model id -> (n, n_eta)

    @property
    def n(self) -> int:
        """Number of patients."""
        return self.covariates.n

    def subset(self, index: slice) -> VirtualPopulation:
        """The patients selected by ``index``."""
        return VirtualPopulation(
            self.covariates.subset(index),
            self.baseline_madrs[index],
            self.response_eta[index],
            {k: v[index] for k, v in self.pk_eta.items()},
        )


def sample_population(
    n: int,
    rng: np.random.Generator,
    baseline_madrs: tuple[float, float] = (33.0, 5.0),
    weight_kg: tuple[float, float] = (80.0, 15.0),
    age_y: tuple[float, float] = (45.0, 12.0),
    models: Sequence[PKModel] = (),
) -> VirtualPopulation:
    """``n`` adults with TRD: baseline MADRS normal (clipped 0-60), PK random effects for ``models``."""
    from ..population import sample_covariates

    covariates = sample_covariates(n, rng, weight_kg=weight_kg, age_y=age_y)
    baseline = np.clip(rng.normal(baseline_madrs[0], baseline_madrs[1], n), 0.0, 60.0)
    eta = rng.standard_normal((n, N_RANDOM_EFFECTS))
    pk = {m.id: m.sample_eta(n, rng) for m in models}
    return VirtualPopulation(covariates, baseline, eta, pk)


def occupancy_grid(arm: Arm, eval_times_h: FloatArray) -> FloatArray:
    """Time grid (h) fine after each dose, hourly elsewhere, containing ``eval_times_h``."""
    end = float(max(eval_times_h.max(), arm.session_times_h().max())) + COARSE_STEP_H
    parts = [np.arange(0.0, end, COARSE_STEP_H), eval_times_h]
    if arm.is_active:
        for t in arm.session_times_h():
            parts.append(t + np.arange(0.0, FINE_WINDOW_H, FINE_STEP_H))
    grid = np.unique(np.round(np.concatenate(parts), 9))
    return np.asarray(grid[grid <= end], dtype=np.float64)


def arm_occupancy(arm: Arm, population: VirtualPopulation, grid_h: FloatArray) -> FloatArray:
    """Effect-site NMDA occupancy of each patient on ``grid_h``, ``(n, n_grid)``; zeros for placebo."""
    occupancy = np.zeros((population.n, grid_h.size))
    if not arm.is_active:
        return occupancy
    model = arm.pk_model()
    eta = population.pk_eta.get(model.id)
    start = 0
    for chunk in simulate_chunks(
        arm.regimen(), grid_h, population.covariates, model=model, iiv=eta is not None, effect_sites=True,
        rng=0, eta=eta, extrapolate=False,
    ):  # fmt: skip
        effect = {a: chunk.conc_ng_ml[effect_site_name(a)] for a in model.analytes}
        occupancy[start : start + chunk.n_subjects] = nmda_occupancy(effect, model.drug)
        start += chunk.n_subjects
    return occupancy


def simulate_arm(
    arm: Arm,
    population: VirtualPopulation,
    eval_times_h: FloatArray,
    params: ResponseParameters | None = None,
    occupancy: FloatArray | None = None,
) -> ArmCourse:
    """MADRS of every patient at ``eval_times_h`` (h after the first dose) under ``arm``.

    Pass ``occupancy`` (from :func:`arm_occupancy` on :func:`occupancy_grid`) to reuse PK across
    parameter sets, as calibration does.
    """
    p = params or load_parameters()
    times = np.asarray(eval_times_h, dtype=np.float64)
    grid = occupancy_grid(arm, times)
    if occupancy is None:
        occupancy = arm_occupancy(arm, population, grid)
    eta = population.response_eta
    emax = logistic(p.emax_logit_mean + p.emax_logit_sd * eta[:, 0])
    k_off = np.exp(p.k_off_log_mean + p.k_off_log_sd * eta[:, 1])
    eval_index = np.searchsorted(grid, np.round(times, 9))
    s = np.zeros((population.n, times.size))
    if arm.is_active:
        plasticity(occupancy, grid, p.k_on_per_h, p.occupancy50, p.hill, k_off, eval_index, s)

    since = times[None, :] - arm.session_times_h()[:, None]  # (n_sessions, n_times)
    acute = np.where(since > 0, p.expectancy_acute * 0.5 ** (np.maximum(since, 0) / p.expectancy_half_life_h), 0.0)
    remaining = np.prod(1.0 - acute, axis=0)  # (n_times,)
    nonspecific = logistic(p.nonspecific_logit_mean + p.nonspecific_logit_sd * eta[:, 2])[:, None] * (
        1.0 - np.exp(-np.maximum(times, 0.0)[None, :] / (24.0 * p.nonspecific_onset_days))
    )
    factor = (1.0 - emax[:, None] * s) * remaining[None, :] * (1.0 - nonspecific)
    if arm.background is not None:
        since_bg = np.maximum(times - (arm.background_start_day - 1.0) * 24.0, 0.0)
        background = logistic(p.background_logit_mean + p.background_logit_sd * eta[:, 3])[:, None] * (
            1.0 - np.exp(-since_bg[None, :] / (24.0 * p.background_onset_days))
        )
        factor = factor * (1.0 - background)
    return ArmCourse(times, population.baseline_madrs[:, None] * factor, population.baseline_madrs)
