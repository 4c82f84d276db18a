"""Population parameters of the response model, read from the versioned ``data/response_model.yaml``.

Random effects (``eta``, standard normal, one row per patient) in this order: the latent baseline
MADRS, the ketamine Emax, the decay rate of the ketamine effect, the acute expectancy response, the
sustained non-specific (placebo) response and the background oral antidepressant response.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from .._data import load
from .._typing import FloatArray

ETA_NAMES = ("baseline", "drug_emax", "drug_decay", "expectancy", "placebo", "background")
N_RANDOM_EFFECTS = len(ETA_NAMES)
OLDER_ADULT_AGE_Y = 65.0  # the age covariate is a step here: the trials split at 65 (TRANSFORM-1/2 vs -3)


@dataclass(frozen=True)
class ResponseParameters:
    """Population parameters (fractions are of the latent baseline MADRS)."""

    drug_u50: float  # session stimulus (effect-site NMDA occupancy x h over 24 h) giving half the maximal kick
    drug_hill: float  # steepness of the session exposure-response
    drug_emax_logit_mean: float  # logit of the patient's maximal fractional MADRS reduction by ketamine
    drug_emax_logit_sd: float
    older_emax_logit_shift: float  # patients aged >= OLDER_ADULT_AGE_Y: added to the drug Emax logit
    older_nonspecific_logit_shift: float  # ... and to the expectancy, placebo and background logits
    inpatient_emax_logit_shift: float  # hospitalised patients (suicidal ideation, standard of care): drug Emax
    inpatient_logit_shift: float  # ... and their expectancy and sustained-placebo logits
    drug_decay_log_mean: float  # log of the decay rate (1/day) of the ketamine effect without consolidation
    drug_decay_log_sd: float
    consolidation_scale: float  # occupancy x h per e-fold of consolidation: each session multiplies the
    # unconsolidated fraction by exp(-u / scale), so consolidation builds with the course's cumulative exposure
    consolidation_half_life_days: float  # consolidation wanes with this half-life once sessions stop
    expectancy_logit_mean: float  # logit of the acute post-session (expectancy) fractional reduction
    expectancy_logit_sd: float
    expectancy_half_life_h: float
    midazolam_expectancy_logit_shift: float  # active placebo (midazolam): added to the expectancy logit
    placebo_logit_mean: float  # logit of the sustained non-specific fractional reduction while in treatment
    placebo_logit_sd: float
    placebo_onset_days: float
    placebo_half_life_days: float  # the sustained non-specific response wanes with this half-life
    background_logit_mean: float  # logit of the response to a newly started oral antidepressant
    background_logit_sd: float
    background_onset_days: float  # fixed (Taylor 2006, data/calibration_targets.yaml)
    madrs_sigma: float  # rating error SD (points), fixed (Williams & Kobak 2008, see the data file)

    def as_dict(self) -> dict[str, float]:
        """Parameters by name."""
        return asdict(self)

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> ResponseParameters:
        """Build from a mapping with one entry per field."""
        return cls(**{f.name: float(values[f.name]) for f in fields(cls)})

    def replace(self, **changes: float) -> ResponseParameters:
        """A copy with ``changes`` applied."""
        values = self.as_dict()
        values.update(changes)
        return ResponseParameters.from_mapping(values)


@dataclass(frozen=True)
class PatientEffects:
    """Per-patient effects derived from ``eta`` and covariates, each ``(n,)``; rates per hour."""

    baseline: FloatArray  # latent baseline MADRS
    drug_emax: FloatArray
    drug_decay_per_h: FloatArray
    expectancy: FloatArray
    placebo: FloatArray
    background: FloatArray


def _logistic(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def latent_baseline_sd(observed_sd: float, sigma: float) -> float:
    """SD of the latent baseline given the published SD of observed baselines and the rating error."""
    return float(np.sqrt(max(observed_sd**2 - sigma**2, 0.25)))


def patient_effects(
    p: ResponseParameters,
    eta: FloatArray,
    age_y: FloatArray,
    baseline_mean: float | FloatArray,
    baseline_sd: float | FloatArray,
    active_placebo: bool = False,
    inpatient: bool = False,
) -> PatientEffects:
    """The effects of patients with random effects ``eta`` ``(n, 6)``, ages (y) and latent-baseline prior;
    ``active_placebo`` for midazolam sessions (their own sedative/anxiolytic expectancy shift), ``inpatient``
    for hospitalised patients (their own non-specific shift)."""
    e = np.atleast_2d(np.asarray(eta, dtype=np.float64))
    baseline = np.clip(np.asarray(baseline_mean) + np.asarray(baseline_sd) * e[:, 0], 0.0, 60.0)
    is_older = np.asarray(age_y, dtype=np.float64) >= OLDER_ADULT_AGE_Y
    emax_shift = np.where(is_older, p.older_emax_logit_shift, 0.0) + (
        p.inpatient_emax_logit_shift if inpatient else 0.0
    )
    emax = _logistic(p.drug_emax_logit_mean + emax_shift + p.drug_emax_logit_sd * e[:, 1])
    decay = np.exp(p.drug_decay_log_mean + p.drug_decay_log_sd * e[:, 2]) / 24.0
    older = np.where(is_older, p.older_nonspecific_logit_shift, 0.0)
    setting = p.inpatient_logit_shift if inpatient else 0.0
    return PatientEffects(
        baseline=np.asarray(baseline, dtype=np.float64),
        drug_emax=emax,
        drug_decay_per_h=np.asarray(decay, dtype=np.float64),
        expectancy=_logistic(
            p.expectancy_logit_mean
            + (p.midazolam_expectancy_logit_shift if active_placebo else 0.0)
            + setting
            + older
            + p.expectancy_logit_sd * e[:, 3]
        ),
        placebo=_logistic(p.placebo_logit_mean + setting + older + p.placebo_logit_sd * e[:, 4]),
        background=_logistic(p.background_logit_mean + older + p.background_logit_sd * e[:, 5]),
    )


def session_kick(stimulus: FloatArray, p: ResponseParameters) -> FloatArray:
    """Per-session kick (0-1) from the session stimulus (occupancy x h): Emax u^h / (u50^h + u^h)."""
    u = np.maximum(np.asarray(stimulus, dtype=np.float64), 0.0)
    q = (u / p.drug_u50) ** p.drug_hill
    return np.asarray(q / (1.0 + q))


def session_consolidation(stimulus: FloatArray, p: ResponseParameters) -> FloatArray:
    """Per-session consolidation step (0-1) from the session stimulus: 1 - exp(-u / scale). Without waning,
    consolidation after a course is 1 - exp(-(sum of u) / scale): it grows with the course's cumulative
    exposure (occupancy AUC), not with one session's."""
    u = np.maximum(np.asarray(stimulus, dtype=np.float64), 0.0)
    return np.asarray(-np.expm1(-u / p.consolidation_scale))


def kernel_constants(p: ResponseParameters) -> FloatArray:
    """Population constants of the course kernel: consolidation decay, expectancy, placebo and background
    rates (1/h)."""
    ln2 = np.log(2.0)
    return np.array([
        ln2 / (24.0 * p.consolidation_half_life_days),
        ln2 / p.expectancy_half_life_h,
        1.0 / (24.0 * p.placebo_onset_days),
        1.0 / (24.0 * p.background_onset_days),
        ln2 / (24.0 * p.placebo_half_life_days),
    ])  # fmt: skip


def load_parameters() -> ResponseParameters:
    """The calibrated parameters shipped with the package."""
    return ResponseParameters.from_mapping(load("response_model.yaml")["parameters"])
