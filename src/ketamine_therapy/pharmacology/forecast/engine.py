"""``forecast(request)``: posterior draws -> band, relapse risk, booster advice, what-if schedules."""

from __future__ import annotations

from collections import OrderedDict
from functools import cache

import numpy as np

from .._typing import FloatArray
from ..response.calibration import load_draws
from ..response.likelihood import latent_course
from ..response.observation import scale_table
from ..response.parameters import ETA_NAMES, ResponseParameters, load_parameters
from .booster import advise, default_candidates
from .contract import Band, Dose, Forecast, ForecastRequest, RelapseRisk, ScheduleCandidate, WhatIf
from .hashing import input_hash, model_version
from .kernel import DrawInputs, ParameterStack, draw_inputs
from .posterior import Posterior, sample_posterior
from .predict import (
    RELAPSE_DEFINITION,
    RELAPSE_THRESHOLD_MADRS,
    Grid,
    band_quantiles,
    relapse_cdf,
    simulate_schedule,
)
from .prepare import BASELINE_MEAN, BASELINE_SD, Prepared, prepare
from .validate import validate

CACHE_SIZE = 256  # forecasts kept by input hash (a chart view repeats its request)
_CACHE: OrderedDict[str, Forecast] = OrderedDict()
IMPLAUSIBLE_Z = 4.0  # a rating this many rating-error SDs from the MAP course is flagged
LOW_DIVERSITY = 0.2  # a posterior sample with fewer distinct particles than this share is flagged


@cache
def parameter_stack() -> ParameterStack:
    """The shipped calibration draws, stacked (loaded once per process)."""
    return ParameterStack.of(load_draws())


def _inputs(prepared: Prepared, post: Posterior, stimulus: FloatArray) -> DrawInputs:
    return draw_inputs(parameter_stack(), post.theta, post.eta, stimulus[post.node], prepared.node_age[post.node],
                       BASELINE_MEAN, BASELINE_SD)  # fmt: skip


def _first_at_least(times: FloatArray, cdf: FloatArray, level: float) -> float | None:
    hit = np.flatnonzero(cdf >= level)
    return float(times[hit[0]]) if hit.size else None


def _relapse(grid: Grid, cdf: FloatArray, origin_h: float, now_h: float) -> RelapseRisk:
    visits = grid.visit_h + origin_h
    median = _first_at_least(visits, cdf, 0.5)
    low, high = _first_at_least(visits, cdf, 0.05), _first_at_least(visits, cdf, 0.95)
    interval = (low, high) if low is not None and high is not None else None
    return RelapseRisk(np.append(now_h, visits), np.append(0.0, cdf), median, interval, RELAPSE_DEFINITION)


def _warnings(request: ForecastRequest, prepared: Prepared, post: Posterior, params: ResponseParameters) -> list[str]:
    out: list[str] = []
    if post.prior_only:
        return ["No ratings: this is the population (prior) forecast for these doses and covariates."]
    latent = latent_course(post.map_eta, prepared.record, params, prepared.obs_h)
    table = scale_table(params.madrs_sigma)
    rows = table[prepared.codes]
    z = (prepared.obs_value - (rows[:, 0] + rows[:, 1] * latent)) / rows[:, 4]
    for k in np.flatnonzero(np.abs(z) > IMPLAUSIBLE_Z):
        r = request.ratings[int(k)]
        out.append(
            f"Rating {r.scale} {r.value} at {r.time_h:g} h is implausible under the model given the other data "
            f"({z[k]:+.1f} rating-error SDs from the fitted course): check it; the forecast uses it as recorded."
        )
    if post.effective_sample_size < LOW_DIVERSITY * post.particles:
        out.append(
            f"The posterior sample kept few distinct draws ({post.effective_sample_size:.0f} of {post.particles}): "
            "the ratings fit the model poorly or contradict each other; the bands may be too narrow."
        )
    madrs = [r.value for r in request.ratings if r.scale == "madrs"]
    if madrs and madrs[-1] >= RELAPSE_THRESHOLD_MADRS:
        out.append(
            f"The last MADRS ({madrs[-1]}) is at or above the relapse threshold ({RELAPSE_THRESHOLD_MADRS:g}): "
            "the relapse risk is that of (still) scoring above it at two consecutive assessments."
        )
    return out


def _what_if(
    candidate: ScheduleCandidate,
    prepared: Prepared,
    post: Posterior,
    grid: Grid,
    scale: str,
    z: tuple[FloatArray, FloatArray],
) -> WhatIf:
    future = tuple(
        Dose(prepared.now_h + d.time_h, d.drug, d.route, d.amount_mg, d.duration_min) for d in candidate.doses
    )
    doses = tuple(sorted(prepared.doses + future, key=lambda d: d.time_h))
    origin = prepared.origin_h if prepared.doses else min(d.time_h for d in doses)
    session_h = np.array([d.time_h - origin for d in doses])
    horizon = grid.at_horizon(prepared.origin_h - origin)
    inputs = _inputs(prepared, post, prepared.stimulus(doses))
    simulated = simulate_schedule(inputs, session_h, horizon, scale, z[0][:, -1:], z[1])
    relapsed = float(np.mean(np.isfinite(simulated.first_relapse_visit)))
    return WhatIf(candidate, relapsed, float(simulated.band_scores[:, -1].mean()))


def forecast(request: ForecastRequest) -> Forecast:
    """The forecast of one patient (see docs/forecast.md). Raises ``InvalidInputError`` naming a bad field.

    The same request (by :func:`~.hashing.input_hash`) returns the same cached, read-only result."""
    validate(request)
    key = input_hash(request)
    if key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    result = _compute(request, key)
    for array in (*vars(result.band).values(), *vars(result.relapse).values()):
        if isinstance(array, np.ndarray):
            array.setflags(write=False)
    _CACHE[key] = result
    if len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


def _compute(request: ForecastRequest, key: str) -> Forecast:
    prepared = prepare(request)
    params = load_parameters()
    rng = np.random.default_rng(request.seed)
    post = sample_posterior(prepared, params, parameter_stack(), request.n_draws, rng)
    grid = Grid.of(prepared.now_h - prepared.origin_h, request.horizon_days)
    z = (rng.standard_normal((request.n_draws, grid.band_h.size)),
         rng.standard_normal((request.n_draws, grid.visit_h.size)))  # fmt: skip
    base = simulate_schedule(_inputs(prepared, post, prepared.node_stimulus), prepared.session_h, grid, request.scale,
                             *z)  # fmt: skip
    q = band_quantiles(base.band_scores, rng.random(base.band_scores.shape) - 0.5)
    band = Band(grid.band_h + prepared.origin_h, q[2], q[0], q[1], q[3], q[4], request.scale)
    cdf = relapse_cdf(base.first_relapse_visit, grid.visit_h.size)
    relapse = _relapse(grid, cdf, prepared.origin_h, prepared.now_h)
    last = prepared.doses[-1] if prepared.doses else None
    booster = advise(grid.visit_h + prepared.origin_h, cdf, prepared.now_h, request.alpha, last)
    weight = request.covariates.weight_kg
    central_weight = float(np.median([n[0] for n in prepared.nodes])) if weight is None else weight
    candidates = request.candidates or default_candidates(last, central_weight, weight is not None)
    what_if = tuple(_what_if(c, prepared, post, grid, request.scale, z) for c in candidates)
    sd = post.eta.std(axis=0)
    shrinkage = {name: 0.0 if post.prior_only else float(1.0 - sd[k]) for k, name in enumerate(ETA_NAMES)}
    return Forecast(
        model_version=model_version(),
        input_hash=key,
        band=band,
        relapse=relapse,
        booster=booster,
        what_if=what_if,
        shrinkage=shrinkage,
        n_ratings=prepared.n_ratings,
        warnings=tuple(_warnings(request, prepared, post, params)),
        prior_only=post.prior_only,
        effective_sample_size=post.effective_sample_size,
    )
