"""Posterior of one patient's random effects, with the population parameter uncertainty carried in.

1. MAP: maximise log p(ratings | eta) + log N(eta; 0, I) (:func:`~..response.likelihood.log_density`, the shipped
   point parameters, the central covariate node) with BFGS from the best of ``N_STARTS`` prior points and from 0.
2. Laplace: covariance = inverse of minus the Hessian at the MAP (central finite differences, step ``HESSIAN_STEP``,
   eigenvalues floored).
3. Sampling-importance-resampling on the joint (eta, theta, node): theta uniform over the shipped calibration draws
   (the population parameter posterior), the covariate node uniform (the population distribution of unknown
   covariates), eta from a defensive mixture q = (1 - ``PRIOR_SHARE``) t_5(MAP, ``INFLATE``^2 Sigma) +
   ``PRIOR_SHARE`` N(0, I); weights w = p(ratings | eta, theta, node) N(eta; 0, I) / q(eta), then systematic
   resampling of ``n_draws``. The Laplace step only shapes the proposal; the weights make the sample exact as the
   number of proposals grows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp
from scipy.stats import multivariate_normal, multivariate_t

from .._typing import FloatArray, IntArray
from ..response.likelihood import log_density_many
from ..response.parameters import N_RANDOM_EFFECTS, ResponseParameters
from .kernel import ParameterStack, draw_inputs, log_likelihood_many
from .prepare import BASELINE_MEAN, BASELINE_SD, Prepared

N_STARTS = 64
HESSIAN_STEP = 1e-3
MIN_PRECISION = 1e-3
T_DF = 5.0
INFLATE = 1.5
PRIOR_SHARE = 0.1
PROPOSALS_PER_DRAW = 3


@dataclass(frozen=True)
class Posterior:
    """Equally weighted draws: random effects ``eta`` ``(n, n_eta)``, parameter set ``theta`` and covariate node."""

    eta: FloatArray
    theta: IntArray
    node: IntArray
    map_eta: FloatArray
    laplace_cov: FloatArray
    effective_sample_size: float
    prior_only: bool


def _objective(prepared: Prepared, params: ResponseParameters) -> Callable[[FloatArray], tuple[float, FloatArray]]:
    """Minus the log density and its central-difference gradient, from one batched evaluation."""
    d = N_RANDOM_EFFECTS
    step = 1e-5
    offsets = np.vstack([np.zeros(d), step * np.eye(d), -step * np.eye(d)])

    def value_and_gradient(x: FloatArray) -> tuple[float, FloatArray]:
        values = -log_density_many(x[None, :] + offsets, prepared.record, params)
        return float(values[0]), (values[1 : d + 1] - values[d + 1 :]) / (2.0 * step)

    return value_and_gradient


def find_map(prepared: Prepared, params: ResponseParameters, rng: np.random.Generator) -> FloatArray:
    """The MAP random effects at the point parameters."""
    fun = _objective(prepared, params)
    starts = np.vstack([np.zeros(N_RANDOM_EFFECTS), rng.standard_normal((N_STARTS, N_RANDOM_EFFECTS))])
    values = log_density_many(starts, prepared.record, params)
    best_start = starts[int(np.argmax(values))]
    best: FloatArray | None = None
    best_value = math.inf
    for start in (best_start, np.zeros(N_RANDOM_EFFECTS)):
        result = minimize(fun, start, jac=True, method="BFGS", options={"gtol": 1e-5, "maxiter": 200})
        if float(result.fun) < best_value:
            best, best_value = np.asarray(result.x, dtype=np.float64), float(result.fun)
        if best is not None and np.allclose(best_start, 0.0):
            break
    assert best is not None
    return best


def laplace_covariance(prepared: Prepared, params: ResponseParameters, at: FloatArray) -> FloatArray:
    """Inverse of minus the Hessian of the log density at ``at`` (eigenvalues of the precision floored)."""
    d = N_RANDOM_EFFECTS
    h = HESSIAN_STEP
    eye = np.eye(d) * h
    points = [at]
    pairs = [(i, j) for i in range(d) for j in range(i, d)]
    for i, j in pairs:
        points += [at + eye[i] + eye[j], at + eye[i] - eye[j], at - eye[i] + eye[j], at - eye[i] - eye[j]]
    values = log_density_many(np.array(points), prepared.record, params)
    hessian = np.empty((d, d))
    for k, (i, j) in enumerate(pairs):
        a, b, c, e = values[1 + 4 * k : 5 + 4 * k]
        hessian[i, j] = hessian[j, i] = (a - b - c + e) / (4.0 * h * h)
    precision = -0.5 * (hessian + hessian.T)
    w, v = np.linalg.eigh(precision)
    w = np.maximum(w, MIN_PRECISION)
    return np.asarray((v / w) @ v.T)


def _systematic(log_w: FloatArray, n: int, rng: np.random.Generator) -> IntArray:
    w = np.exp(log_w - logsumexp(log_w))
    positions = (rng.random() + np.arange(n)) / n
    return np.asarray(np.minimum(np.searchsorted(np.cumsum(w), positions), w.size - 1), dtype=np.int64)


def prior_draws(prepared: Prepared, stack: ParameterStack, n: int, rng: np.random.Generator) -> Posterior:
    """Draws from the population prior (no ratings)."""
    eta = rng.standard_normal((n, N_RANDOM_EFFECTS))
    theta = rng.integers(0, stack.n, n)
    node = rng.integers(0, len(prepared.nodes), n)
    zero = np.zeros(N_RANDOM_EFFECTS)
    return Posterior(eta, theta, node, zero, np.eye(N_RANDOM_EFFECTS), float(n), True)


def sample_posterior(
    prepared: Prepared, params: ResponseParameters, stack: ParameterStack, n: int, rng: np.random.Generator
) -> Posterior:
    """MAP, Laplace and importance resampling (see the module docstring)."""
    if prepared.n_ratings == 0:
        return prior_draws(prepared, stack, n, rng)
    mode = find_map(prepared, params, rng)
    cov = laplace_covariance(prepared, params, mode)
    m = PROPOSALS_PER_DRAW * n
    t = multivariate_t(loc=mode, shape=INFLATE**2 * cov, df=T_DF)
    from_prior = rng.random(m) < PRIOR_SHARE
    eta = np.where(
        from_prior[:, None],
        rng.standard_normal((m, N_RANDOM_EFFECTS)),
        t.rvs(size=m, random_state=rng).reshape(m, N_RANDOM_EFFECTS),
    )
    log_prior = multivariate_normal(np.zeros(N_RANDOM_EFFECTS)).logpdf(eta)
    log_q = np.logaddexp(math.log1p(-PRIOR_SHARE) + t.logpdf(eta), math.log(PRIOR_SHARE) + log_prior)
    theta = rng.integers(0, stack.n, m)
    node = rng.integers(0, len(prepared.nodes), m)
    inputs = draw_inputs(
        stack, theta, eta, prepared.node_stimulus[node], prepared.node_age[node], BASELINE_MEAN, BASELINE_SD
    )
    log_lik = log_likelihood_many(inputs, prepared.session_h, prepared.obs_h, prepared.obs_value, prepared.codes)
    log_w = log_lik + log_prior - log_q
    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    w = np.exp(log_w - logsumexp(log_w))
    ess = float(1.0 / np.sum(w * w))
    pick = _systematic(log_w, n, rng)
    return Posterior(eta[pick], theta[pick], node[pick], mode, cov, ess, False)
