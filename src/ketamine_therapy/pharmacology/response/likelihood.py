"""Per-patient log-density of the response model: log p(ratings | eta, covariates, sessions) + log p(eta).

This is the likelihood the per-patient forecast uses (MAP, Laplace, importance resampling). A
:class:`PatientRecord` holds one patient's sessions (times, per-session stimulus from the PK model, see
:func:`~.arms.session_stimulus`), covariates and ratings; :func:`log_density` evaluates one ``eta``
(the six standard-normal random effects of :data:`~.parameters.ETA_NAMES`) and
:func:`log_density_many` a batch. Both run in compiled code: about a microsecond per rating.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from .._typing import FloatArray, IntArray
from ..exceptions import InvalidInputError
from .course import course_one
from .observation import log_prob_score, scale_code, scale_table
from .parameters import (
    N_RANDOM_EFFECTS,
    ResponseParameters,
    kernel_constants,
    patient_effects,
    session_consolidation,
    session_kick,
)

_LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True)
class PatientRecord:
    """One patient's data.

    ``session_h``: treatment sessions (h after the first, ascending; placebo sessions count, for expectancy);
    ``stimulus``: per-session effect-site NMDA occupancy x h (0 for placebo); ``age_y``; the latent-baseline
    prior ``baseline_mean``/``baseline_sd`` (MADRS points); ``background_start_h`` if a new oral
    antidepressant was started (else ``None``); ``inpatient`` if hospitalised (the non-specific response of
    that setting); ratings at ``obs_h`` (ascending) with integer values
    ``obs_value`` on scales ``obs_scale`` (``"madrs"``, ``"qids-sr16"``).
    """

    session_h: FloatArray
    stimulus: FloatArray
    age_y: float
    obs_h: FloatArray
    obs_value: FloatArray
    obs_scale: tuple[str, ...]
    baseline_mean: float = 33.0
    baseline_sd: float = 4.0
    background_start_h: float | None = None
    inpatient: bool = False

    def __post_init__(self) -> None:
        sessions = np.asarray(self.session_h, dtype=np.float64)
        if sessions.ndim != 1 or np.any(np.diff(sessions) < 0) or np.any(sessions < 0):
            raise InvalidInputError("session_h", "must be ascending times >= 0", "ascending hours >= 0")
        if np.shape(self.stimulus) != sessions.shape or np.any(np.asarray(self.stimulus) < 0):
            raise InvalidInputError("stimulus", f"needs {sessions.size} values >= 0", "one value >= 0 per session")
        obs = np.asarray(self.obs_h, dtype=np.float64)
        if obs.ndim != 1 or np.any(np.diff(obs) < 0):
            raise InvalidInputError("obs_h", "must be ascending", "ascending hours")
        if np.shape(self.obs_value) != obs.shape or len(self.obs_scale) != obs.size:
            raise InvalidInputError("obs_value", "needs one value and one scale per rating time", f"{obs.size}")
        table = scale_table(1.0)
        for k, (value, scale) in enumerate(zip(np.asarray(self.obs_value), self.obs_scale, strict=True)):
            low, high = table[scale_code(scale), 2:4]
            if not (low <= value <= high) or value != round(value):
                raise InvalidInputError(
                    f"obs_value[{k}]", f"got {value:g} on {scale}", f"whole numbers {low:g}-{high:g}"
                )
        if not 0.0 <= self.baseline_mean <= 60.0:
            raise InvalidInputError("baseline_mean", f"got {self.baseline_mean}", "0-60 MADRS points")
        if not 0.0 < self.baseline_sd <= 30.0:
            raise InvalidInputError("baseline_sd", f"got {self.baseline_sd}", "> 0 and <= 30 MADRS points")

    @property
    def scale_codes(self) -> IntArray:
        """The scale row of each rating."""
        return np.array([scale_code(s) for s in self.obs_scale], dtype=np.int64)


# Not cached on disk: numba does not invalidate a cached function when a jitted function it calls from another module
# (course_one, log_prob_score) changes, so a stale cache would silently evaluate an old model. Compiles in ~1 s.
@numba.njit(cache=False)
def _log_likelihood(  # type: ignore[no-untyped-def]
    obs_h,
    obs_value,
    codes,
    table,
    session_h,
    kick,
    build,
    constants,
    baseline,
    emax,
    k_s,
    acute,
    placebo,
    background,
    background_start_h,
    scratch,
):
    course_one(obs_h, session_h, kick, build, constants, baseline, emax, k_s, acute, placebo, background,
               background_start_h, scratch)  # fmt: skip
    total = 0.0
    for j in range(obs_h.shape[0]):
        total += log_prob_score(obs_value[j], scratch[j], table[codes[j]])
    return total


def log_density_many(etas: FloatArray, record: PatientRecord, params: ResponseParameters) -> FloatArray:
    """log p(ratings | eta) + log N(eta; 0, I) for each row of ``etas`` ``(m, 6)``."""
    e = np.atleast_2d(np.asarray(etas, dtype=np.float64))
    if e.shape[1] != N_RANDOM_EFFECTS:
        raise InvalidInputError("eta", f"has shape {e.shape}", f"(m, {N_RANDOM_EFFECTS})")
    m = e.shape[0]
    effects = patient_effects(params, e, np.full(m, record.age_y), record.baseline_mean, record.baseline_sd,
                              inpatient=record.inpatient)  # fmt: skip
    kick = session_kick(np.asarray(record.stimulus, dtype=np.float64), params)
    build = session_consolidation(np.asarray(record.stimulus, dtype=np.float64), params)
    background = effects.background if record.background_start_h is not None else np.zeros(m)
    start = -1.0 if record.background_start_h is None else float(record.background_start_h)
    obs_h = np.asarray(record.obs_h, dtype=np.float64)
    obs_value = np.asarray(record.obs_value, dtype=np.float64)
    table = scale_table(params.madrs_sigma)
    constants = kernel_constants(params)
    session_h = np.asarray(record.session_h, dtype=np.float64)
    codes = record.scale_codes
    scratch = np.empty(obs_h.size)
    out = -0.5 * (e * e).sum(axis=1) - 0.5 * N_RANDOM_EFFECTS * _LOG_2PI
    for i in range(m):
        out[i] += _log_likelihood(
            obs_h, obs_value, codes, table, session_h, kick, build, constants, effects.baseline[i],
            effects.drug_emax[i], effects.drug_decay_per_h[i], effects.expectancy[i], effects.placebo[i],
            background[i], start, scratch,
        )  # fmt: skip
    return np.asarray(out)


def log_density(eta: FloatArray, record: PatientRecord, params: ResponseParameters) -> float:
    """log p(ratings | eta, covariates, sessions) + log N(eta; 0, I) for one ``eta`` ``(6,)``."""
    return float(log_density_many(np.asarray(eta, dtype=np.float64)[None, :], record, params)[0])


def latent_course(
    eta: FloatArray, record: PatientRecord, params: ResponseParameters, times_h: FloatArray
) -> FloatArray:
    """Latent MADRS of the patient with random effects ``eta`` at ascending ``times_h``."""
    e = np.asarray(eta, dtype=np.float64)[None, :]
    effects = patient_effects(params, e, np.array([record.age_y]), record.baseline_mean, record.baseline_sd,
                              inpatient=record.inpatient)  # fmt: skip
    background = effects.background[0] if record.background_start_h is not None else 0.0
    start = -1.0 if record.background_start_h is None else float(record.background_start_h)
    out = np.empty(np.asarray(times_h).size)
    stimulus = np.asarray(record.stimulus, dtype=np.float64)
    course_one(np.asarray(times_h, dtype=np.float64), np.asarray(record.session_h, dtype=np.float64),
               session_kick(stimulus, params), session_consolidation(stimulus, params), kernel_constants(params),
               effects.baseline[0], effects.drug_emax[0], effects.drug_decay_per_h[0], effects.expectancy[0],
               effects.placebo[0], background, start, out)  # fmt: skip
    return out
