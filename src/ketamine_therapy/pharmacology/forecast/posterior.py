"""Posterior of one patient's random effects, with the population parameter uncertainty carried in.

1. MAP: maximise log p(ratings | eta) + log N(eta; 0, I) (:func:`~..response.likelihood.log_density`, the shipped
   point parameters, the central covariate node) with BFGS from the best of ``N_STARTS`` prior points and from 0;
   Laplace covariance = inverse of minus the Hessian there (central finite differences, eigenvalues floored). Both
   are reported and the MAP course flags implausible ratings.
2. The sample: tempered sequential Monte Carlo (Del Moral, Doucet & Jasra 2006, J R Stat Soc B 68:411) on the joint
   (eta, theta, node): particles start from the prior (eta ~ N(0, I); theta uniform over the shipped calibration
   draws, i.e. the population parameter posterior; the covariate node uniform, i.e. the population distribution of
   unknown covariates); each stage raises the likelihood's exponent as far as keeps the reweighting's effective
   sample size >= ``ESS_TARGET``, resamples (systematic), then runs ``SWEEPS`` pairs of Metropolis-Hastings sweeps:
   a differential-evolution step on eta (ter Braak 2006, Stat Comput 16:239; tuned toward acceptance
   ``TARGET_ACCEPTANCE``, full-length jumps for a share ``JUMP_SHARE``), then a fresh (theta, node) from the prior
   with eta re-solved to keep each individual effect (:mod:`.reparam`, a centred move with its Jacobian);
   ``FINAL_SWEEPS`` more at exponent 1.
   Laplace + sampling-importance-resampling was tried first and dropped: on an 8-rating responder it kept 5-15
   effective draws of 3,000 proposals (the posterior is skewed and multimodal: drug Emax, its decay and the placebo
   response trade off, and each calibration draw moves the mode), so a few weights decided the forecast.
3. ``n_draws`` = particles x ``DRAWS_PER_PARTICLE``: each particle is used that many times, with its own rating
   errors each time, in the predictions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

from .._typing import FloatArray, IntArray
from ..response.likelihood import log_density_many
from ..response.parameters import N_RANDOM_EFFECTS, ResponseParameters
from .kernel import ParameterStack, draw_inputs, log_likelihood_many
from .prepare import BASELINE_MEAN, BASELINE_SD, Prepared
from .reparam import matched_eta, separable

N_STARTS = 64
HESSIAN_STEP = 1e-3
MIN_PRECISION = 1e-3
ESS_TARGET = 0.5
MIN_TEMPERATURE_STEP = 1e-4
SWEEPS = 2  # per stage: eta sweeps, each followed by a parameter-set sweep
FINAL_SWEEPS = 2
JUMP_SHARE = 0.2
JITTER = 1e-3  # a little noise on each differential-evolution step, so duplicated particles separate
DRAWS_PER_PARTICLE = 2
MIN_PARTICLES = 100
TARGET_ACCEPTANCE = 0.3


@dataclass(frozen=True)
class Posterior:
    """Equally weighted draws: random effects ``eta`` ``(n, n_eta)``, parameter set ``theta`` and covariate node."""

    eta: FloatArray
    theta: IntArray
    node: IntArray
    map_eta: FloatArray
    laplace_cov: FloatArray
    effective_sample_size: float  # distinct particles (SMC) or draws (prior)
    prior_only: bool
    stages: int = 0
    particles: int = 0


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
    return Posterior(eta, theta, node, zero, np.eye(N_RANDOM_EFFECTS), float(n), True, 0, n)


def _next_temperature(log_lik: FloatArray, beta: float) -> float:
    """The largest temperature <= 1 whose incremental weights keep ESS >= ``ESS_TARGET`` x particles."""

    finite = log_lik[np.isfinite(log_lik)]

    def ess(b: float) -> float:
        w = np.exp((b - beta) * (finite - finite.max()))
        return float(w.sum() ** 2 / (w * w).sum())

    target = ESS_TARGET * log_lik.size
    if ess(1.0) >= target:
        return 1.0
    low, high = beta, 1.0
    for _ in range(40):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if ess(mid) >= target else (low, mid)
    return max(low, beta + MIN_TEMPERATURE_STEP)


class _Particles:
    """Particles (eta, parameter set, covariate node) with their log-likelihoods."""

    def __init__(self, prepared: Prepared, stack: ParameterStack, n: int, rng: np.random.Generator) -> None:
        self.prepared, self.stack, self.rng = prepared, stack, rng
        self.eta = rng.standard_normal((n, N_RANDOM_EFFECTS))
        self.theta = rng.integers(0, stack.n, n)
        self.node = rng.integers(0, len(prepared.nodes), n)
        self.log_lik = self.evaluate(self.eta, self.theta, self.node)
        self.centred = separable(stack, float(prepared.node_age[0]), (BASELINE_MEAN, BASELINE_SD))

    def evaluate(self, eta: FloatArray, theta: IntArray, node: IntArray) -> FloatArray:
        p = self.prepared
        inputs = draw_inputs(
            self.stack, theta, eta, p.node_stimulus[node], p.node_age[node], BASELINE_MEAN, BASELINE_SD
        )
        log_lik = log_likelihood_many(inputs, p.session_h, p.obs_h, p.obs_value, p.codes)
        return np.where(np.isfinite(log_lik), log_lik, -np.inf)

    def resample(self, log_w: FloatArray) -> None:
        pick = _systematic(log_w, self.eta.shape[0], self.rng)
        self.eta, self.theta, self.node, self.log_lik = (
            self.eta[pick],
            self.theta[pick],
            self.node[pick],
            self.log_lik[pick],
        )

    def _accept(self, beta: float, eta: FloatArray, theta: IntArray, node: IntArray, log_jac: FloatArray) -> float:
        log_lik = self.evaluate(eta, theta, node)
        log_ratio = beta * (log_lik - self.log_lik) - 0.5 * ((eta * eta).sum(1) - (self.eta * self.eta).sum(1))
        accept = np.log(self.rng.random(eta.shape[0])) < log_ratio + log_jac
        self.eta[accept], self.theta[accept], self.node[accept] = eta[accept], theta[accept], node[accept]
        self.log_lik[accept] = log_lik[accept]
        return float(accept.mean())

    def move_eta(self, beta: float, scale: float) -> float:
        """A Metropolis-Hastings sweep on eta at temperature ``beta`` (parameter set and node kept): a
        differential-evolution step (ter Braak 2006), ``scale`` times the difference of two particles of the frozen
        cloud (symmetric, so the target is kept), full length for a share ``JUMP_SHARE`` (moves between modes).
        Returns the acceptance rate."""
        n, d = self.eta.shape
        a, b = self.rng.integers(0, n, (2, n))
        gamma = np.where(self.rng.random(n) < JUMP_SHARE, 1.0, scale)
        eta = self.eta + gamma[:, None] * (self.eta[a] - self.eta[b]) + JITTER * self.rng.standard_normal((n, d))
        return self._accept(beta, eta, self.theta, self.node, np.zeros(n))

    def move_theta(self, beta: float) -> float:
        """A Metropolis-Hastings sweep proposing a fresh parameter set and covariate node from the prior, with eta
        moved to keep the individual effects (:mod:`.reparam`) where the model allows it."""
        n = self.eta.shape[0]
        theta = np.asarray(self.rng.integers(0, self.stack.n, n), dtype=np.int64)
        node = np.asarray(self.rng.integers(0, len(self.prepared.nodes), n), dtype=np.int64)
        if not self.centred:
            return self._accept(beta, self.eta, theta, node, np.zeros(n))
        age = self.prepared.node_age
        eta, log_jac = matched_eta(self.stack, self.theta, theta, self.eta, age[self.node], age[node],
                                   (BASELINE_MEAN, BASELINE_SD))  # fmt: skip
        return self._accept(beta, eta, theta, node, log_jac)


def sample_posterior(
    prepared: Prepared, params: ResponseParameters, stack: ParameterStack, n: int, rng: np.random.Generator
) -> Posterior:
    """MAP and Laplace (reported), then a tempered SMC sample of the joint posterior (see the module docstring)."""
    if prepared.n_ratings == 0:
        return prior_draws(prepared, stack, n, rng)
    mode = find_map(prepared, params, rng)
    cov = laplace_covariance(prepared, params, mode)
    particles = _Particles(prepared, stack, max(n // DRAWS_PER_PARTICLE, MIN_PARTICLES), rng)
    beta = 0.0
    scale = 2.38 / math.sqrt(2.0 * N_RANDOM_EFFECTS)
    stages = 0
    while beta < 1.0:
        new = _next_temperature(particles.log_lik, beta)
        particles.resample((new - beta) * particles.log_lik)
        beta = new
        stages += 1
        for _ in range(SWEEPS + (FINAL_SWEEPS if beta >= 1.0 else 0)):
            rate = particles.move_eta(beta, scale)
            scale *= math.exp(rate - TARGET_ACCEPTANCE)
            particles.move_theta(beta)
    every = np.arange(n) % particles.eta.shape[0]
    distinct = float(np.unique(particles.eta, axis=0).shape[0])
    return Posterior(
        particles.eta[every],
        particles.theta[every],
        particles.node[every],
        mode,
        cov,
        distinct,
        False,
        stages,
        particles.eta.shape[0],
    )
