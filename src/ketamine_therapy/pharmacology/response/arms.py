"""Simulate a treatment arm: PK -> per-session occupancy stimulus -> latent MADRS course -> observed ratings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .._typing import FloatArray
from ..exceptions import InvalidInputError
from ..models import PKModel
from ..pd import effect_site_name, nmda_occupancy
from ..population import Covariates
from ..regimen import Dose, Regimen, Route, parse_route
from ..simulate import resolve_model, simulate_chunks
from .course import ArmCourse, course_many
from .observation import observe
from .parameters import (
    N_RANDOM_EFFECTS,
    ResponseParameters,
    kernel_constants,
    latent_baseline_sd,
    load_parameters,
    patient_effects,
    session_consolidation,
    session_kick,
)

ACTIVE_DRUGS = ("racemic-ketamine", "esketamine", "s-ketamine")
PLACEBO_DRUGS = ("placebo", "midazolam")
BACKGROUNDS = ("new-oral-antidepressant",)
SETTINGS = ("outpatient", "inpatient")
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
    doses_mg: tuple[float, ...] | None = None  # per-session doses (e.g. Spravato 56 then 84 mg); 0 = placebo session
    duration_min: float = 0.0
    background: str | None = None
    background_start_day: float = 1.0
    model: str | None = None
    setting: str = "outpatient"  # "inpatient": hospitalised (suicidal ideation, standard of care)

    def __post_init__(self) -> None:
        if self.drug not in ACTIVE_DRUGS + PLACEBO_DRUGS:
            raise InvalidInputError("drug", f"unknown drug {self.drug!r}", ", ".join(ACTIVE_DRUGS + PLACEBO_DRUGS))
        if not self.days or any(d < 1 for d in self.days) or list(self.days) != sorted(set(self.days)):
            raise InvalidInputError("days", f"got {list(self.days)}", "increasing, distinct study days >= 1")
        if self.setting not in SETTINGS:
            raise InvalidInputError("setting", f"got {self.setting!r}", ", ".join(SETTINGS))
        if self.background is not None and self.background not in BACKGROUNDS:
            raise InvalidInputError("background", f"got {self.background!r}", ", ".join(BACKGROUNDS))
        if self.doses_mg is not None and len(self.doses_mg) != len(self.days):
            raise InvalidInputError("doses_mg", "needs one dose per day", f"{len(self.days)} values")
        if self.doses_mg is not None and (min(self.doses_mg) < 0 or max(self.doses_mg) <= 0):
            raise InvalidInputError("doses_mg", f"got {list(self.doses_mg)}", "doses >= 0 mg (0 = placebo session)")
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

    def session_amounts(self) -> tuple[float, ...]:
        """Per session: the dose (mg, or mg/kg for ``dose_mg_per_kg`` arms); 0 for a placebo session."""
        if not self.is_active:
            return (0.0,) * len(self.days)
        if self.doses_mg is not None:
            return tuple(float(x) for x in self.doses_mg)
        amount = self.dose_mg if self.dose_mg is not None else self.dose_mg_per_kg
        assert amount is not None
        return (float(amount),) * len(self.days)

    def regimen(self) -> Regimen:
        """The dosing regimen of an active arm (placebo sessions, dose 0, are left out)."""
        assert self.route is not None
        doses = []
        for t, amount in zip(self.session_times_h(), self.session_amounts(), strict=True):
            if amount <= 0:
                continue
            per_kg = self.dose_mg_per_kg is not None
            doses.append(Dose(float(t), self.route, amount_mg=None if per_kg else amount,
                              amount_mg_per_kg=amount if per_kg else None,
                              duration_h=self.duration_min / 60.0))  # fmt: skip
        return Regimen(tuple(doses))

    def pk_model(self) -> PKModel:
        """The PK model of an active arm (the drug's default unless ``model`` is set)."""
        return resolve_model(self.model, self.drug)


@dataclass(frozen=True)
class VirtualPopulation:
    """Patients: covariates, latent baseline MADRS, standard-normal response random effects ``(n, 6)``
    (:data:`~.parameters.ETA_NAMES`), rating-noise keys and PK random effects."""

    covariates: Covariates
    baseline_madrs: FloatArray
    response_eta: FloatArray
    noise_key: np.ndarray  # uint64 per patient: seeds the patient's visit-to-visit rating errors
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
            self.noise_key[index],
            {k: v[index] for k, v in self.pk_eta.items()},
        )


def sample_population(
    n: int,
    rng: np.random.Generator,
    baseline_madrs: tuple[float, float] = (33.0, 5.0),
    weight_kg: tuple[float, float] = (80.0, 15.0),
    age_y: tuple[float, float] = (45.0, 12.0),
    models: Sequence[PKModel] = (),
    madrs_sigma: float | None = None,
) -> VirtualPopulation:
    """``n`` adults with TRD. ``baseline_madrs`` is the published (observed) mean and SD; the latent baseline
    has the SD left after the rating error ``madrs_sigma`` (default: the shipped parameters')."""
    from ..population import sample_covariates

    sigma = load_parameters().madrs_sigma if madrs_sigma is None else madrs_sigma
    covariates = sample_covariates(n, rng, weight_kg=weight_kg, age_y=age_y)
    eta = rng.standard_normal((n, N_RANDOM_EFFECTS))
    sd = latent_baseline_sd(baseline_madrs[1], sigma)
    baseline = np.clip(baseline_madrs[0] + sd * eta[:, 0], 0.0, 60.0)
    keys = rng.integers(0, np.iinfo(np.uint64).max, size=n, dtype=np.uint64, endpoint=True)
    pk = {m.id: m.sample_eta(n, rng) for m in models}
    return VirtualPopulation(covariates, baseline, eta, keys, pk)


STIMULUS_WINDOW_H = 24.0
"""A session's stimulus is its effect-site occupancy integrated over 24 h (or until the next session)."""
WASHOUT_H = 48.0
"""Sessions this far apart are simulated one dose at a time (no drug left from the previous one)."""


def _stimulus_on_one_grid(arm: Arm, population: VirtualPopulation, extrapolate: bool = False) -> FloatArray:
    sessions = arm.session_times_h()
    ends = np.minimum(sessions + STIMULUS_WINDOW_H, np.append(sessions[1:], np.inf))
    grid = occupancy_grid(arm, ends)
    occupancy = arm_occupancy(arm, population, grid, extrapolate)
    steps = 0.5 * (occupancy[:, 1:] + occupancy[:, :-1]) * np.diff(grid)[None, :]
    cumulative = np.concatenate([np.zeros((population.n, 1)), np.cumsum(steps, axis=1)], axis=1)
    at_start = cumulative[:, np.searchsorted(grid, np.round(sessions, 9))]
    at_end = cumulative[:, np.searchsorted(grid, np.round(ends, 9))]
    active = np.asarray(arm.session_amounts()) > 0
    return np.asarray(np.where(active[None, :], at_end - at_start, 0.0))


def session_stimulus(arm: Arm, population: VirtualPopulation, extrapolate: bool = False) -> FloatArray:
    """Per patient and session, effect-site NMDA occupancy x h over the session window, ``(n, n_sessions)``.

    Sessions at least ``WASHOUT_H`` apart do not overlap (ketamine and norketamine are gone by then), so each
    distinct dose is simulated once and reused; closer sessions are simulated together on one grid.
    ``extrapolate`` lets the PK model run beyond its validated dose range (said wherever it is used).
    """
    sessions = arm.session_times_h()
    if not arm.is_active:
        return np.zeros((population.n, sessions.size))
    if sessions.size > 1 and float(np.diff(sessions).min()) < WASHOUT_H:
        return _stimulus_on_one_grid(arm, population, extrapolate)
    amounts = np.asarray(arm.session_amounts())
    out = np.zeros((population.n, sessions.size))
    per_kg = arm.dose_mg_per_kg is not None
    for amount in np.unique(amounts[amounts > 0]):
        single = replace(arm, days=(1.0,), dose_mg=None if per_kg else float(amount), doses_mg=None,
                         dose_mg_per_kg=float(amount) if per_kg else None)  # fmt: skip
        out[:, amounts == amount] = _stimulus_on_one_grid(single, population, extrapolate)
    return out


def patient_session_stimulus(arm: Arm, covariates: Covariates) -> FloatArray:
    """Per session of ``arm``, the stimulus (occupancy x h) of one patient with ``covariates`` (one subject) and
    typical PK (random effects 0): the input :class:`~.likelihood.PatientRecord` needs for a real patient."""
    if covariates.n != 1:
        raise InvalidInputError("covariates", f"has {covariates.n} subjects", "exactly one patient")
    models = [arm.pk_model()] if arm.is_active else []
    one = VirtualPopulation(covariates, np.zeros(1), np.zeros((1, N_RANDOM_EFFECTS)), np.zeros(1, dtype=np.uint64),
                            {m.id: m.zero_eta(1) for m in models})  # fmt: skip
    return np.asarray(session_stimulus(arm, one)[0])


def occupancy_grid(arm: Arm, eval_times_h: FloatArray) -> FloatArray:
    """Time grid (h) fine after each dose, hourly elsewhere, containing ``eval_times_h``."""
    end = float(max(eval_times_h.max(), arm.session_times_h().max())) + COARSE_STEP_H
    parts = [np.arange(0.0, end, COARSE_STEP_H), eval_times_h]
    if arm.is_active:
        for t in arm.session_times_h():
            parts.append(t + np.arange(0.0, FINE_WINDOW_H, FINE_STEP_H))
    grid = np.unique(np.round(np.concatenate(parts), 9))
    return np.asarray(grid[grid <= end], dtype=np.float64)


def arm_occupancy(arm: Arm, population: VirtualPopulation, grid_h: FloatArray, extrapolate: bool = False) -> FloatArray:
    """Effect-site NMDA occupancy of each patient on ``grid_h``, ``(n, n_grid)``; zeros for placebo."""
    occupancy = np.zeros((population.n, grid_h.size))
    if not arm.is_active:
        return occupancy
    model = arm.pk_model()
    eta = population.pk_eta.get(model.id)
    start = 0
    for chunk in simulate_chunks(
        arm.regimen(), grid_h, population.covariates, model=model, iiv=eta is not None, effect_sites=True,
        rng=0, eta=eta, extrapolate=extrapolate,
    ):  # fmt: skip
        effect = {a: chunk.conc_ng_ml[effect_site_name(a)] for a in model.analytes}
        occupancy[start : start + chunk.n_subjects] = nmda_occupancy(effect, model.drug)
        start += chunk.n_subjects
    return occupancy


def latent_arm(
    arm: Arm,
    population: VirtualPopulation,
    times_h: FloatArray,
    params: ResponseParameters,
    stimulus: FloatArray,
) -> FloatArray:
    """Latent MADRS ``(n, n_times)`` of every patient at ascending ``times_h`` (h after the first session)."""
    # the latent baselines were drawn with the population; patient_effects' own baseline is not used here
    effects = patient_effects(params, population.response_eta, population.covariates.age_y, 0.0, 1.0,
                              active_placebo=arm.drug == "midazolam", inpatient=arm.setting == "inpatient")  # fmt: skip
    background = effects.background if arm.background is not None else np.zeros(population.n)
    start = (arm.background_start_day - 1.0) * 24.0 if arm.background is not None else -1.0
    out = np.empty((population.n, times_h.size))
    course_many(times_h, arm.session_times_h(), session_kick(stimulus, params),
                session_consolidation(stimulus, params), kernel_constants(params),
                population.baseline_madrs, effects.drug_emax, effects.drug_decay_per_h, effects.expectancy,
                effects.placebo, background, start, out)  # fmt: skip
    return out


def simulate_arm(
    arm: Arm,
    population: VirtualPopulation,
    eval_times_h: FloatArray,
    params: ResponseParameters | None = None,
    stimulus: FloatArray | None = None,
    scale: str = "madrs",
) -> ArmCourse:
    """Observed scores on ``scale`` of every patient at ``eval_times_h`` (h after the first dose) under ``arm``,
    with the observed baseline (t = 0) and the latent MADRS.

    Pass ``stimulus`` (from :func:`session_stimulus`) to reuse PK across parameter sets, as calibration does.
    """
    p = params or load_parameters()
    times = np.asarray(eval_times_h, dtype=np.float64)
    order = np.argsort(times, kind="stable")
    if stimulus is None:
        stimulus = session_stimulus(arm, population)
    latent = np.empty((population.n, times.size))
    latent[:, order] = latent_arm(arm, population, times[order], p, stimulus)
    observed = observe(latent, population.noise_key, times, scale, p.madrs_sigma)
    base = observe(population.baseline_madrs[:, None], population.noise_key, np.zeros(1), scale, p.madrs_sigma)
    return ArmCourse(times, observed, base[:, 0], latent)
