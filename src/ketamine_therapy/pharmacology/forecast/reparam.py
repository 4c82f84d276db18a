"""Moving a particle to another population parameter set while keeping its individual effects (a centred move).

Under a different calibration draw theta', the same random effects eta mean different individual effects (the
population mean and spread moved), so swapping theta with eta fixed is rarely accepted and the posterior keeps few
parameter sets. Instead eta' is solved so that every individual effect is unchanged: effects(eta', theta') =
effects(eta, theta), component by component (each field of :class:`~..response.parameters.PatientEffects` is a
monotone function of its own random effect, checked by :func:`separable`). The move is deterministic given theta',
so its Metropolis-Hastings ratio carries the Jacobian |d eta'/d eta| = prod_k e_k'(eta_k; theta) / e_k'(eta'_k; theta').
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np

from .._typing import FloatArray, IntArray
from ..response.parameters import N_RANDOM_EFFECTS, ResponseParameters, patient_effects
from .kernel import ParameterStack

BRACKET = 8.0  # eta' is kept in [-BRACKET, BRACKET]
BISECTIONS = 32  # 16 / 2^32: far below the solution tolerance
STEP = 1e-4
TOLERANCE = 1e-6  # relative: a bracket edge reached is not a solution


def _effects(
    params: ResponseParameters, eta: FloatArray, age_y: FloatArray, baseline: tuple[float, float]
) -> FloatArray:
    effects = patient_effects(params, eta, age_y, *baseline)
    return np.column_stack([getattr(effects, f.name) for f in fields(effects)])


def effects_matrix(stack: ParameterStack, theta: IntArray, eta: FloatArray, age_y: FloatArray,
                   baseline: tuple[float, float]) -> FloatArray:  # fmt: skip
    """Individual effects ``(n, n_effects)`` of random effects ``eta`` under parameter sets ``theta``."""
    return _effects(stack.select(theta), eta, age_y, baseline)


def separable(stack: ParameterStack, age_y: float, baseline: tuple[float, float]) -> bool:
    """Whether each effect depends on its own random effect only, increasingly (else the move is not used)."""
    theta = np.zeros(N_RANDOM_EFFECTS + 1, dtype=np.int64)
    eta = np.vstack([np.full(N_RANDOM_EFFECTS, 0.1), 0.1 + 0.5 * np.eye(N_RANDOM_EFFECTS)])
    e = effects_matrix(stack, theta, eta, np.full(eta.shape[0], age_y), baseline)
    if e.shape[1] != N_RANDOM_EFFECTS:
        return False
    change = e[1:] - e[0]
    off = change[~np.eye(N_RANDOM_EFFECTS, dtype=bool)]
    return bool(np.all(np.abs(off) < 1e-12) and np.all(np.diag(change) > 0))


def matched_eta(stack: ParameterStack, theta: IntArray, new_theta: IntArray, eta: FloatArray, age_y: FloatArray,
                new_age_y: FloatArray, baseline: tuple[float, float]) -> tuple[FloatArray, FloatArray]:  # fmt: skip
    """``eta'`` with the same effects under ``new_theta`` (and ages ``new_age_y``), and log |d eta'/d eta|
    (``-inf`` where not solvable)."""
    old, proposed = stack.select(theta), stack.select(new_theta)
    target = _effects(old, eta, age_y, baseline)
    low, high = np.full(eta.shape, -BRACKET), np.full(eta.shape, BRACKET)
    for _ in range(BISECTIONS):  # each effect increases with its own random effect: bisection per component
        mid = 0.5 * (low + high)
        below = _effects(proposed, mid, new_age_y, baseline) < target
        low, high = np.where(below, mid, low), np.where(below, high, mid)
    new = 0.5 * (low + high)
    slope_old = _effects(old, eta + STEP, age_y, baseline) - target
    reached = _effects(proposed, new, new_age_y, baseline)
    slope_new = _effects(proposed, new + STEP, new_age_y, baseline) - reached
    with np.errstate(divide="ignore", invalid="ignore"):
        log_jac = np.log(slope_old / slope_new).sum(axis=1)
    solved = np.all(np.abs(reached - target) <= TOLERANCE * (1.0 + np.abs(target)), axis=1)
    return new, np.where(solved & np.isfinite(log_jac), log_jac, -np.inf)
