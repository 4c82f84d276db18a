"""Latent depression course of each patient (compiled kernel); see docs/models/response.md.

Per patient, with sessions at t_k (h) and a per-session kick f_k = u_k^h / (u50^h + u_k^h) (0 for placebo):

* ketamine effect S (0-1) jumps at each session, S <- S + f_k (1 - S), and decays between sessions
  at rate k_S (1 - C): a well-consolidated effect decays slowly;
* consolidation C (0-1) jumps at each session, C <- C + c_k (1 - C) with c_k = u_k / (u50_C + u_k) (a
  second, less saturated exposure-response: durability grows with dose), and wanes at rate k_C;
* latent MADRS(t) = M0 (1 - Emax S) (1 - acute) (1 - P (1 - e^(-k_P t)) e^(-k_W t)) (1 - B (1 - e^(-k_B (t - t_B))))
  (the sustained non-specific response P builds with rate k_P and wanes with rate k_W)
  with acute = 1 - prod over past sessions of (1 - A e^(-k_A (t - t_k))).

Between sessions both states have a closed form, so the course is exact at any time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba

from .._typing import FloatArray

_NEGLIGIBLE_DECAY = 30.0  # e^-30: an expectancy term this old is dropped


@dataclass(frozen=True)
class ArmCourse:
    """Observed scores at the evaluation times, ``(n_patients, n_times)``, with each patient's observed baseline.

    ``latent`` is the underlying latent MADRS (same shape) where the course was simulated, else ``None``.
    """

    times_h: FloatArray
    madrs: FloatArray
    baseline: FloatArray
    latent: FloatArray | None = None


@numba.njit(cache=True)
def course_one(  # type: ignore[no-untyped-def]
    times_h, session_h, kick, build, constants, baseline, emax, k_s, acute, placebo, background, background_start_h, out
):
    """Latent MADRS of one patient at ``times_h`` (ascending); a session acts on times strictly after it.

    ``kick`` and ``build`` are the per-session jumps of the effect and of consolidation."""
    k_c, k_a, k_p, k_b, k_w = constants[0], constants[1], constants[2], constants[3], constants[4]
    s = 0.0
    c = 0.0
    t_state = 0.0
    d = 0
    first_recent = 0
    n_sessions = session_h.shape[0]
    for j in range(times_h.shape[0]):
        t = times_h[j]
        while d < n_sessions and session_h[d] < t:
            dt = session_h[d] - t_state
            if dt > 0.0:
                s *= math.exp(-k_s * (dt - c * (1.0 - math.exp(-k_c * dt)) / k_c))
                c *= math.exp(-k_c * dt)
                t_state = session_h[d]
            s += kick[d] * (1.0 - s)
            c += build[d] * (1.0 - c)
            d += 1
        dt = t - t_state
        if dt > 0.0:
            s *= math.exp(-k_s * (dt - c * (1.0 - math.exp(-k_c * dt)) / k_c))
            c *= math.exp(-k_c * dt)
            t_state = t
        remaining = 1.0
        while first_recent < d and k_a * (t - session_h[first_recent]) > _NEGLIGIBLE_DECAY:
            first_recent += 1
        for k in range(first_recent, d):
            remaining *= 1.0 - acute * math.exp(-k_a * (t - session_h[k]))
        value = baseline * (1.0 - emax * s) * remaining
        if t > 0.0:
            value *= 1.0 - placebo * (1.0 - math.exp(-k_p * t)) * math.exp(-k_w * t)
        if background > 0.0 and t > background_start_h:
            value *= 1.0 - background * (1.0 - math.exp(-k_b * (t - background_start_h)))
        out[j] = value
    return out


@numba.njit(parallel=True, cache=True)
def course_many(  # type: ignore[no-untyped-def]
    times_h, session_h, kick, build, constants, baseline, emax, k_s, acute, placebo, background, background_start_h, out
):
    """:func:`course_one` for every patient (rows of ``kick``, ``build`` and ``out``; per-patient vectors)."""
    for i in numba.prange(out.shape[0]):
        course_one(times_h, session_h, kick[i], build[i], constants, baseline[i], emax[i], k_s[i], acute[i],
                   placebo[i], background[i], background_start_h, out[i])  # fmt: skip
    return out
