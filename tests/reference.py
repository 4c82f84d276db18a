"""Independent reference solutions of linear systems (no shared code with the solver)."""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from ketamine_therapy.pharmacology._linear import InputEvent


def amounts_by_superposition(
    matrix: np.ndarray, events: list[InputEvent], subject: int, times: np.ndarray
) -> np.ndarray:
    """State (mg) of one subject at ``times`` as a sum of closed-form dose responses, (n_times, n)."""
    n = matrix.shape[0]
    out = np.zeros((times.size, n))
    aug = np.zeros((2 * n, 2 * n))
    aug[:n, :n] = matrix
    aug[:n, n:] = np.eye(n)
    for e in events:
        after = times >= e.time_h
        if not np.any(after):
            continue
        t = times[after]
        b = np.zeros(n)
        b[e.compartment] = e.amount_mg[subject]
        if e.duration_h == 0:
            out[after] += expm(matrix[None] * (t - e.time_h)[:, None, None]) @ b
            continue
        end = np.minimum(t, e.time_h + e.duration_h)
        phi = expm(aug[None] * (end - e.time_h)[:, None, None])[:, :n, n:]
        decay = expm(matrix[None] * (t - end)[:, None, None])
        out[after] += np.einsum("tij,tjk,k->ti", decay, phi, b / e.duration_h)
    return out


def amounts_by_ode(matrix: np.ndarray, events: list[InputEvent], subject: int, times: np.ndarray) -> np.ndarray:
    """The same state by numerical integration (Radau, rtol 1e-10), piecewise between events."""
    n = matrix.shape[0]
    starts = [e.time_h for e in events]
    ends = [e.time_h + e.duration_h for e in events]
    breaks = sorted({0.0, float(times[-1]), *starts, *ends})
    scale = max(float(e.amount_mg[subject]) for e in events)
    x = np.zeros(n)
    out = np.full((times.size, n), np.nan)
    for i, a in enumerate(breaks):
        for e in events:
            if e.duration_h == 0 and abs(e.time_h - a) < 1e-12:
                x[e.compartment] += e.amount_mg[subject]
        out[np.isclose(times, a, rtol=0, atol=1e-12)] = x
        if i == len(breaks) - 1:
            break
        b = breaks[i + 1]
        rate = np.zeros(n)
        for e in events:
            if e.duration_h > 0 and e.time_h <= a + 1e-12 and e.time_h + e.duration_h >= b - 1e-12:
                rate[e.compartment] += e.amount_mg[subject] / e.duration_h
        inside = (times > a + 1e-12) & (times < b - 1e-12)
        t_eval = np.concatenate([times[inside], [b]])
        sol = solve_ivp(
            lambda _t, y, r=rate: matrix @ y + r, (a, b), x, method="Radau", rtol=1e-10,
            atol=1e-14 * scale, jac=matrix, t_eval=t_eval,
        )  # fmt: skip
        out[inside] = sol.y[:, :-1].T
        x = sol.y[:, -1]
    return out
