"""Fit the response model's population parameters to published trial results, with their uncertainty.

Targets and arms live in ``data/calibration_targets.yaml``. Each arm gets its own seeded virtual population
(common random numbers across evaluations; arms marked ``same_patients_as`` share one); PK runs once per arm
(the per-session stimulus), so an evaluation only re-runs the course kernel.

Likelihood on summary statistics: each fitted row contributes ((model - published) / s)^2 with
s^2 = SE^2 + MC^2, SE the row's sampling error (binomial from n, published SE, SD / sqrt(n), or the log-HR SE
from the published CI) and MC the model's Monte-Carlo SE. Response, remission and change are computed from
each patient's latent course and observed baseline with the visit's rating error integrated out analytically
(the same expectation a simulated trial estimates, with less Monte-Carlo noise); relapse rows use simulated
ratings at simulated visits. A weak normal prior (SD ``PRIOR_SD`` on the fitted scale, centred in each search
range) keeps the Hessian proper. ``fit`` minimises with a bounded Powell search; ``laplace_draws`` samples
the Gauss-Newton normal approximation at the optimum (Jacobian by central differences).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import ndtr

from .._data import load
from .._typing import FloatArray
from ..trials.results import cox_log_hazard_ratio
from .arms import Arm, VirtualPopulation, latent_arm, sample_population, session_stimulus
from .course import ArmCourse
from .endpoints import kaplan_meier_median, time_to_relapse_days
from .observation import observe, scale_code, scale_table
from .parameters import ResponseParameters, load_parameters

RELAPSE_VISIT_DAYS = 3.5  # twice-weekly follow-up visits after a series
RELAPSE_HORIZON_DAYS = 120.0
MC_BATCHES = 5  # Monte-Carlo SE of simulated-visit rows from this many patient batches
PRIOR_SD = 3.0
JACOBIAN_STEP = 0.05
DEFAULT_N = 2000
DEFAULT_SEED = 20261205
# fitted parameters: ("log" or "raw" scale, low, high) on the fitted scale
FITTED: dict[str, tuple[str, float, float]] = {
    "drug_u50": ("log", math.log(0.2), math.log(10.0)),
    "drug_hill": ("log", math.log(0.5), math.log(20.0)),
    "drug_emax_logit_mean": ("raw", -3.0, 4.0),
    "drug_emax_logit_sd": ("log", math.log(0.05), math.log(4.0)),
    "drug_decay_log_mean": ("raw", math.log(1 / 200), math.log(2.0)),
    "drug_decay_log_sd": ("log", math.log(0.05), math.log(5.0)),
    "consolidation_scale": ("log", math.log(0.2), math.log(200.0)),
    "consolidation_half_life_days": ("log", math.log(3.0), math.log(1000.0)),
    "expectancy_logit_mean": ("raw", -6.0, 2.0),
    "expectancy_logit_sd": ("log", math.log(0.05), math.log(6.0)),
    "expectancy_half_life_h": ("log", math.log(1.0), math.log(240.0)),
    "midazolam_expectancy_logit_shift": ("raw", -3.0, 5.0),
    "placebo_logit_mean": ("raw", -6.0, 2.0),
    "placebo_logit_sd": ("log", math.log(0.05), math.log(6.0)),
    "placebo_onset_days": ("log", math.log(0.2), math.log(60.0)),
    "placebo_half_life_days": ("log", math.log(7.0), math.log(3650.0)),
    "background_logit_mean": ("raw", -6.0, 3.0),
    "background_logit_sd": ("log", math.log(0.05), math.log(6.0)),
    "older_emax_logit_shift": ("raw", -4.0, 2.0),
    "older_nonspecific_logit_shift": ("raw", -4.0, 2.0),
    "inpatient_emax_logit_shift": ("raw", -4.0, 2.0),
    "inpatient_logit_shift": ("raw", -3.0, 5.0),
}
FIXED = ("background_onset_days", "madrs_sigma")


@dataclass(frozen=True)
class Row:
    """One target against the model: published value and SE, model value and Monte-Carlo SE."""

    id: str
    kind: str
    target: float
    se: float
    model: float
    mc_se: float
    held_out: bool
    source: str

    @property
    def band(self) -> float:
        """Acceptance half-width: 2 sqrt(SE^2 + MC^2)."""
        return 2.0 * math.hypot(self.se, self.mc_se)

    @property
    def on_log_scale(self) -> bool:
        """Hazard ratios are compared as log HR."""
        return self.kind == "hazard_ratio"

    @property
    def residual(self) -> float:
        """(model - published) / sqrt(SE^2 + MC^2), on the log scale for hazard ratios."""
        if self.on_log_scale:
            return (math.log(self.model) - math.log(self.target)) / math.hypot(self.se, self.mc_se)
        return (self.model - self.target) / math.hypot(self.se, self.mc_se)

    @property
    def passed(self) -> bool:
        """Within the band."""
        return math.isfinite(self.residual) and abs(self.residual) <= 2.0


def target_se(t: dict[str, Any]) -> float:
    """The sampling SE of a target row (see the module docstring)."""
    if "log_se" in t:
        return float(t["log_se"])
    if "se" in t:
        return float(t["se"])
    if "sd" in t:
        return float(t["sd"]) / math.sqrt(float(t["n"]))
    p = float(t["value"])
    return math.sqrt(max(p * (1.0 - p), 0.25 / float(t["n"])) / float(t["n"]))  # floor: p = 0 or 1


def arm_from_spec(name: str, spec: dict[str, Any]) -> Arm:
    """An :class:`Arm` from a calibration-file entry."""
    return Arm(
        name=name,
        drug=spec["drug"],
        days=tuple(float(d) for d in spec["days"]),
        route=spec.get("route"),
        dose_mg=spec.get("dose_mg"),
        dose_mg_per_kg=spec.get("dose_mg_per_kg"),
        doses_mg=tuple(float(x) for x in spec["doses_mg"]) if "doses_mg" in spec else None,
        duration_min=float(spec.get("duration_min", 0.0)),
        background=spec.get("background"),
        setting=spec.get("setting", "outpatient"),
    )


@dataclass(frozen=True)
class PreparedArm:
    """An arm's patients, evaluation times (h), PK stimulus and observed baselines per scale."""

    arm: Arm
    population: VirtualPopulation
    times_h: FloatArray
    stimulus: FloatArray
    baseline_scores: dict[str, FloatArray]


class Calibration:
    """Targets, arms, their virtual populations and cached PK stimulus."""

    def __init__(self, n_per_arm: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> None:
        self.data = load("calibration_targets.yaml")
        self.n = n_per_arm
        self.seed = seed
        self.arm_specs: dict[str, dict[str, Any]] = dict(self.data["arms"])
        self.arms = {name: arm_from_spec(name, spec) for name, spec in self.arm_specs.items()}
        self.targets: list[dict[str, Any]] = list(self.data["targets"])
        self.orderings: list[dict[str, Any]] = list(self.data.get("orderings", []))
        self.sustain = dict(self.data["relapse"]["sustain1"])
        self.sigma = load_parameters().madrs_sigma

    # -- preparation ---------------------------------------------------------------------------------------

    def _times_h(self, name: str) -> FloatArray:
        days = [0.0]
        for t in self.targets + self.orderings:
            arms = [t.get("arm"), t.get("better"), t.get("worse"), *t.get("arms", [])]
            if name not in arms:
                continue
            if t["kind"] == "hazard_ratio" or t.get("select"):
                end = self.sustain["randomised_day"] + self.sustain["horizon_days"]
                days += list(np.arange(0.0, end + 1e-9, self.sustain["visit_days"]))
            elif t["kind"] == "relapse_median_days":
                start = float(t["from_day"])
                days += list(start + np.arange(0.0, RELAPSE_HORIZON_DAYS + 1e-9, RELAPSE_VISIT_DAYS))
            else:
                days.append(float(t["day"]))
        return np.unique(np.round(np.array(days) * 24.0, 6))

    @cached_property
    def prepared(self) -> dict[str, PreparedArm]:
        """Every arm's patients and PK stimulus (computed once)."""
        defaults = self.data["population"]
        out: dict[str, PreparedArm] = {}
        groups = list(dict.fromkeys(self.arm_specs[a].get("same_patients_as", a) for a in self.arms))
        for name, arm in self.arms.items():
            spec = self.arm_specs[name]
            group = spec.get("same_patients_as", name)
            rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(groups.index(group),)))
            model_spec = self.arm_specs[group]
            models = [arm.pk_model()] if arm.is_active else []
            population = sample_population(
                self.n * int(model_spec.get("n_factor", 1)), rng,
                baseline_madrs=tuple(model_spec.get("baseline_madrs", defaults["baseline_madrs"])),
                weight_kg=tuple(defaults["weight_kg"]), age_y=tuple(model_spec.get("age_y", defaults["age_y"])),
                models=models, madrs_sigma=self.sigma,
            )  # fmt: skip
            stimulus = session_stimulus(arm, population, extrapolate=bool(spec.get("extrapolate_pk", False)))
            zero = np.zeros(1)
            baselines = {
                scale: observe(population.baseline_madrs[:, None], population.noise_key, zero, scale, self.sigma)[:, 0]
                for scale in ("madrs", "qids-sr16")
            }
            out[name] = PreparedArm(arm, population, self._times_h(name), stimulus, baselines)
        return out

    # -- measurement ---------------------------------------------------------------------------------------

    def latent(self, params: ResponseParameters) -> dict[str, FloatArray]:
        """Latent MADRS of every arm at its evaluation times."""
        return {
            name: latent_arm(p.arm, p.population, p.times_h, params, p.stimulus) for name, p in self.prepared.items()
        }

    def _column(self, name: str, day: float) -> int:
        times = self.prepared[name].times_h
        return int(np.argmin(np.abs(times - day * 24.0)))

    def _per_patient(self, latent: dict[str, FloatArray], name: str, t: dict[str, Any]) -> FloatArray:
        """Per-patient expected endpoint (rating error integrated out) of a response/remission/change row."""
        prepared = self.prepared[name]
        scale = t.get("scale", "madrs")
        intercept, slope, _, _, sd = scale_table(self.sigma)[scale_code(scale)]
        mean = intercept + slope * latent[name][:, self._column(name, float(t["day"]))]
        base = prepared.baseline_scores[scale]
        if t["kind"] == "response":
            return np.asarray(ndtr((np.floor(0.5 * base) + 0.5 - mean) / sd))
        if t["kind"] == "remission":
            return np.asarray(ndtr((float(t["threshold"]) + 0.5 - mean) / sd))
        z = mean / sd
        expected = mean * ndtr(z) + sd * np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)  # E[max(mean + e, 0)]
        return np.asarray(expected - base)

    def _observed(self, latent: dict[str, FloatArray], name: str, days: FloatArray) -> ArmCourse:
        prepared = self.prepared[name]
        columns = np.array([self._column(name, d) for d in days])
        times = prepared.times_h[columns]
        scores = observe(latent[name][:, columns], prepared.population.noise_key, times, "madrs", self.sigma)
        return ArmCourse(times, scores, prepared.baseline_scores["madrs"])

    def _murrough_median(self, latent: dict[str, FloatArray], t: dict[str, Any]) -> FloatArray:
        start = float(t["from_day"])
        days = start + np.arange(0.0, RELAPSE_HORIZON_DAYS + 1e-9, RELAPSE_VISIT_DAYS)
        course = self._observed(latent, t["arm"], days)
        offset = start - float(t.get("clock_from_day", start))
        n = self.prepared[t["arm"]].population.n
        values = []
        for index in [np.arange(n), *np.array_split(np.arange(n), MC_BATCHES)]:
            part = ArmCourse(course.times_h, course.madrs[index], course.baseline[index])
            d, e = time_to_relapse_days(part, start * 24.0)
            values.append(min(kaplan_meier_median(d, e) + offset, RELAPSE_HORIZON_DAYS))
        return np.array(values)

    def sustain_relapse(
        self, latent: dict[str, FloatArray], arm: str, select: str
    ) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Among the selected stable patients of a SUSTAIN-1 arm: their indices, relapse days after randomisation
        and relapse events (censored at the horizon)."""
        s = self.sustain
        days = np.arange(0.0, s["randomised_day"] + s["horizon_days"] + 1e-9, s["visit_days"])
        course = self._observed(latent, arm, days)
        at = int(np.searchsorted(days, s["randomised_day"]))
        remitter = (course.madrs[:, at - 3 : at + 1] <= 12).sum(axis=1) >= 3
        responding = (course.madrs[:, at - 1 : at + 1] <= 0.5 * course.baseline[:, None]).all(axis=1)
        chosen = remitter if select == "stable_remitters" else responding & ~remitter
        after = course.madrs[chosen, at + 1 :] >= s["threshold_madrs"]
        confirm = int(s["consecutive"])
        confirmed = after[:, : after.shape[1] - confirm + 1].copy()
        for k in range(1, confirm):
            confirmed &= after[:, k : k + confirmed.shape[1]]
        event = confirmed.any(axis=1)
        first = np.where(event, confirmed.argmax(axis=1) + 1, after.shape[1])  # visits after randomisation
        chosen_index = np.flatnonzero(chosen).astype(np.float64)
        return chosen_index, first * float(s["visit_days"]), event.astype(np.float64)

    def _hazard_ratio(self, latent: dict[str, FloatArray], t: dict[str, Any]) -> tuple[float, float]:
        """Model HR of the two arms among the selected patients and the Cox SE of its log (the Monte-Carlo SE)."""
        (_, days_a, event_a), (_, days_b, event_b) = (self.sustain_relapse(latent, a, t["select"]) for a in t["arms"])
        days = np.concatenate([days_a, days_b])
        event = np.concatenate([event_a, event_b])
        group = np.concatenate([np.ones(days_a.size), np.zeros(days_b.size)])
        beta, se = cox_log_hazard_ratio(days, event, group)
        if not math.isfinite(beta):  # no events in one arm: the HR is 0 or infinite
            beta = -10.0 if event_a.sum() == 0 else 10.0
            se = 1.0
        return math.exp(beta), se

    def _sustain_measure(self, latent: dict[str, FloatArray], t: dict[str, Any]) -> FloatArray:
        """The row's value on all patients, then on each of ``MC_BATCHES`` patient batches."""
        n = self.prepared[t["arm"]].population.n
        subsets = [np.arange(n), *np.array_split(np.arange(n), MC_BATCHES)]
        results = []
        chosen, days, event = self.sustain_relapse(latent, t["arm"], t["select"])
        for index in subsets:
            keep = np.isin(chosen, index)
            results.append(min(kaplan_meier_median(days[keep], event[keep]), float(self.sustain["horizon_days"])))
        return np.array(results)

    def measure(self, latent: dict[str, FloatArray], t: dict[str, Any]) -> tuple[float, float]:
        """Model value and Monte-Carlo SE of a target row."""
        kind = t["kind"]
        if kind == "hazard_ratio":
            return self._hazard_ratio(latent, t)
        if t.get("select"):
            values = self._sustain_measure(latent, t)
        elif kind == "relapse_median_days":
            values = self._murrough_median(latent, t)
        else:
            if kind == "change_difference":
                a, b = (self._per_patient(latent, arm, {**t, "kind": "change"}) for arm in t["arms"])
                value = float(a.mean() - b.mean())
                return value, math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
            per = self._per_patient(latent, t["arm"], t)
            return float(per.mean()), float(per.std(ddof=1) / math.sqrt(per.size))
        centre, batch = float(values[0]), values[1:]
        spread = float(np.std(batch, ddof=1) / math.sqrt(batch.size)) if np.all(np.isfinite(batch)) else float("inf")
        return centre, spread

    def rows(self, params: ResponseParameters, latent: dict[str, FloatArray] | None = None) -> list[Row]:
        """Every target with the model's value under ``params``."""
        latent = self.latent(params) if latent is None else latent
        out = []
        for t in self.targets:
            model, mc = self.measure(latent, t)
            out.append(Row(t["id"], t["kind"], float(t["value"]), target_se(t), model, mc,
                           bool(t.get("held_out", False)), str(t["source"])))  # fmt: skip
        return out

    def orderings_rows(self, params: ResponseParameters) -> list[tuple[str, float, float, str]]:
        """Each ordering: id, margin (worse arm's change minus the better arm's; >= 0 holds), its MC SE, source."""
        latent = self.latent(params)
        out = []
        for o in self.orderings:
            better = self._per_patient(latent, o["better"], {**o, "kind": "change"})
            worse = self._per_patient(latent, o["worse"], {**o, "kind": "change"})
            se = math.sqrt(better.var(ddof=1) / better.size + worse.var(ddof=1) / worse.size)
            out.append((o["id"], float(worse.mean() - better.mean()), se, str(o["source"])))
        return out

    def residuals(self, params: ResponseParameters) -> FloatArray:
        """Standardised residuals of the fitted rows."""
        return np.array([r.residual for r in self.rows(params) if not r.held_out])


# -- fitting -------------------------------------------------------------------------------------------------


def to_vector(params: ResponseParameters) -> FloatArray:
    """The fitted parameters on their fitting scale."""
    values = params.as_dict()
    out = []
    for name, (transform, low, high) in FITTED.items():
        v = values[name]
        x = math.log(v) if transform == "log" else v
        out.append(min(max(x, low), high))
    return np.array(out)


def from_vector(x: FloatArray, template: ResponseParameters) -> ResponseParameters:
    """Parameters with the fitted ones replaced by ``x`` (fitting scale)."""
    values = template.as_dict()
    for (name, (transform, _, _)), v in zip(FITTED.items(), x, strict=True):
        values[name] = float(math.exp(v) if transform == "log" else v)
    return ResponseParameters.from_mapping(values)


@dataclass(frozen=True)
class FitResult:
    """Fitted parameters, the fitted-scale optimum and its Laplace covariance, the objective (sum of squares)."""

    params: ResponseParameters
    x: FloatArray
    covariance: FloatArray
    objective: float
    evaluations: int


def fit(
    calibration: Calibration,
    start: ResponseParameters | None = None,
    max_evaluations: int = 1500,
    progress: Callable[[int, float], None] | None = None,
) -> FitResult:
    """Minimise the summary-statistic objective from ``start`` (default: the shipped parameters)."""
    template = start or load_parameters()
    low = np.array([b[1] for b in FITTED.values()])
    high = np.array([b[2] for b in FITTED.values()])
    centre = 0.5 * (low + high)  # prior centre: the middle of each search range (fixed, not the start)
    count = [0]
    best = [math.inf]

    def residuals(x: FloatArray) -> FloatArray:
        r = calibration.residuals(from_vector(x, template))
        r = np.where(np.isfinite(r), r, 10.0)
        out = np.concatenate([r, (x - centre) / PRIOR_SD])
        count[0] += 1
        best[0] = min(best[0], float(out @ out))
        if progress is not None:
            progress(count[0], best[0])
        return out

    def objective(x: FloatArray) -> float:
        r = residuals(x)
        return float(r @ r)

    # Powell: derivative-free, robust to the small steps that simulated relapse rows put in the objective
    found = minimize(objective, np.clip(to_vector(template), low, high), method="Powell",
                     bounds=list(zip(low, high, strict=True)),
                     options={"maxfev": max_evaluations, "xtol": 1e-3, "ftol": 1e-5})  # fmt: skip
    x = np.asarray(found.x)
    jac = _jacobian(residuals, x, low, high)
    information = jac.T @ jac  # Gauss-Newton approximation of the Hessian of half the objective
    eigenvalues, vectors = np.linalg.eigh(information)
    covariance = (vectors / np.maximum(eigenvalues, 1e-6)) @ vectors.T
    fitted = from_vector(x, template)
    return FitResult(fitted, x, covariance, objective(x), count[0])


def _jacobian(
    residuals: Callable[[FloatArray], FloatArray], x: FloatArray, low: FloatArray, high: FloatArray
) -> FloatArray:
    """Central differences with step ``JACOBIAN_STEP`` (one-sided at a bound), wide enough to bridge the
    steps of the simulated relapse rows."""
    columns = []
    for k in range(x.size):
        up, down = x.copy(), x.copy()
        up[k] = min(x[k] + JACOBIAN_STEP, high[k])
        down[k] = max(x[k] - JACOBIAN_STEP, low[k])
        columns.append((residuals(up) - residuals(down)) / (up[k] - down[k]))
    return np.array(columns).T


def laplace_draws(result: FitResult, n_draws: int, seed: int) -> list[ResponseParameters]:
    """``n_draws`` parameter sets from the normal approximation at the optimum (clipped to the bounds)."""
    rng = np.random.default_rng(seed)
    low = np.array([b[1] for b in FITTED.values()])
    high = np.array([b[2] for b in FITTED.values()])
    x = rng.multivariate_normal(result.x, result.covariance, size=n_draws, method="eigh")
    return [from_vector(np.clip(row, low, high), result.params) for row in x]


def parameters_document(result: FitResult, calibration: Calibration) -> dict[str, Any]:
    """The YAML document of the fitted parameters (``response_model.yaml``), with Laplace SEs on the fitted scale."""
    sd = np.sqrt(np.diag(result.covariance))
    return {
        "version": datetime.now(UTC).strftime("%Y-%m-%d"),
        "calibrated_with": {
            "n_per_arm": calibration.n,
            "seed": calibration.seed,
            "objective": round(result.objective, 4),
            "evaluations": result.evaluations,
            "targets": "data/calibration_targets.yaml",
        },
        "parameters": {f.name: float(f"{getattr(result.params, f.name):.6g}") for f in fields(result.params)},
        "fitted_scale_sd": {
            name: {"scale": FITTED[name][0], "sd": float(f"{s:.4g}")} for name, s in zip(FITTED, sd, strict=True)
        },
    }


def draws_document(draws: list[ResponseParameters], version: str) -> dict[str, Any]:
    """The YAML document of posterior parameter draws (``response_posterior.yaml``)."""
    names = list(FITTED)
    return {
        "version": version,
        "method": "Laplace (Gauss-Newton) approximation at the optimum of the summary-statistic likelihood",
        "names": names,
        "draws": [[float(f"{getattr(d, n):.6g}") for n in names] for d in draws],
    }


def load_draws() -> list[ResponseParameters]:
    """The posterior parameter draws shipped with the package (fixed parameters from ``response_model.yaml``)."""
    document = load("response_posterior.yaml")
    template = load_parameters()
    return [template.replace(**dict(zip(document["names"], row, strict=True))) for row in document["draws"]]
