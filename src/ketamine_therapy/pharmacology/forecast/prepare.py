"""From a validated request to the arrays the posterior and the predictions use (model time: first dose = 0).

Unknown covariates are integrated over the population distribution (the response model's default trial population,
``population`` in ``data/calibration_targets.yaml``): ``N_NODES`` patients drawn once (fixed seed)
from :func:`~..population.sample_covariates`, the known covariates filled in; each posterior draw is paired with one
node (its own PK stimulus and age). The MAP uses the central node (medians).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._data import load
from .._typing import FloatArray, IntArray
from ..population import sample_covariates
from ..response.likelihood import PatientRecord
from ..response.observation import scale_code
from ..response.parameters import latent_baseline_sd, load_parameters
from .contract import Covariates, Dose, ForecastRequest
from .stimulus import PKKey, check_dose, session_stimulus

N_NODES = 8
NODE_SEED = 20261205
# the response model's default trial population (data/calibration_targets.yaml): observed baseline MADRS mean and SD,
# weight and age (mean, SD)
POPULATION = load("calibration_targets.yaml")["population"]
BASELINE_MEAN = float(POPULATION["baseline_madrs"][0])
BASELINE_SD = latent_baseline_sd(float(POPULATION["baseline_madrs"][1]), load_parameters().madrs_sigma)


def covariate_nodes(covariates: Covariates) -> tuple[tuple[PKKey, ...], PKKey]:
    """The covariate nodes (one if everything is known) and the central node."""
    known = covariates.weight_kg, covariates.age_y, covariates.sex
    female = None if covariates.sex is None else covariates.sex == "female"
    if None not in known:
        node = (float(known[0]), float(known[1]), bool(female))  # type: ignore[arg-type]
        return (node,), node
    sample = sample_covariates(
        N_NODES,
        np.random.default_rng(NODE_SEED),
        weight_kg=tuple(POPULATION["weight_kg"]),
        age_y=tuple(POPULATION["age_y"]),
    )
    weights = sample.weight_kg if covariates.weight_kg is None else np.full(N_NODES, covariates.weight_kg)
    ages = sample.age_y if covariates.age_y is None else np.full(N_NODES, covariates.age_y)
    sexes = sample.female if female is None else np.full(N_NODES, female)
    nodes = tuple(
        (round(float(w), 3), round(float(a), 3), bool(s)) for w, a, s in zip(weights, ages, sexes, strict=True)
    )
    central = (
        round(float(np.median(weights)), 3),
        round(float(np.median(ages)), 3),
        bool(np.mean(sexes) >= 0.5),
    )
    return nodes, central


@dataclass(frozen=True)
class Prepared:
    """One patient's data in model time (h after the first dose; caller time = model time + ``origin_h``)."""

    origin_h: float
    now_h: float  # caller time of the last observation or the last dose, whichever is later
    doses: tuple[Dose, ...]
    session_h: FloatArray
    nodes: tuple[PKKey, ...]
    node_age: FloatArray  # (n_nodes,)
    node_stimulus: FloatArray  # (n_nodes, n_sessions)
    record: PatientRecord  # at the central node, for the MAP
    obs_h: FloatArray
    obs_value: FloatArray
    codes: IntArray

    @property
    def n_ratings(self) -> int:
        """Number of ratings."""
        return int(self.obs_h.size)

    def stimulus(self, doses: tuple[Dose, ...]) -> FloatArray:
        """Per node, the stimulus of each of ``doses`` (history plus any future doses), ``(n_nodes, n)``."""
        return np.stack([session_stimulus(doses, node) for node in self.nodes])


def prepare(request: ForecastRequest) -> Prepared:
    """The arrays of a validated ``request``."""
    nodes, central = covariate_nodes(request.covariates)
    for k, dose in enumerate(request.doses):
        check_dose(dose, k, central)
    doses = request.doses
    times = [d.time_h for d in doses] + [r.time_h for r in request.ratings]
    origin = doses[0].time_h if doses else (request.ratings[0].time_h if request.ratings else 0.0)
    now = max(times) if times else 0.0
    session_h = np.array([d.time_h - origin for d in doses], dtype=np.float64)
    obs_h = np.array([r.time_h - origin for r in request.ratings], dtype=np.float64)
    obs_value = np.array([float(r.value) for r in request.ratings], dtype=np.float64)
    scales = tuple(r.scale for r in request.ratings)
    record = PatientRecord(
        session_h, session_stimulus(doses, central), central[1], obs_h, obs_value, scales, BASELINE_MEAN, BASELINE_SD
    )
    return Prepared(
        origin_h=float(origin),
        now_h=float(now),
        doses=doses,
        session_h=session_h,
        nodes=nodes,
        node_age=np.array([n[1] for n in nodes], dtype=np.float64),
        node_stimulus=np.stack([session_stimulus(doses, n) for n in nodes]),
        record=record,
        obs_h=obs_h,
        obs_value=obs_value,
        codes=np.array([scale_code(s) for s in scales], dtype=np.int64),
    )
