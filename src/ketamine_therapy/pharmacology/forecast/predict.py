"""Predictions from posterior draws: bands of predicted *observed* scores, relapse risk, what-if schedules.

Each draw's latent MADRS course comes from the response model (:mod:`.kernel`); an observed score is drawn from the
rating model of the response model (``round(a + b L + e)``, ``e ~ N(0, b sigma)``, clipped to the scale range), so
the bands are prediction intervals for a future rating, not for the latent mean.

Relapse (the SUSTAIN-1 definition, Daly 2019, as in ``data/calibration_targets.yaml``): MADRS >= 22 on two
consecutive assessments, dated at the first. Assessments are assumed every ``RELAPSE_VISIT_DAYS`` (twice weekly, the
response model's relapse-endpoint schedule) from the last observation; the first is one interval after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._data import load
from .._typing import FloatArray, IntArray
from ..response.calibration import RELAPSE_VISIT_DAYS
from ..response.observation import scale_code
from .kernel import DrawInputs, latent_many

_SUSTAIN = load("calibration_targets.yaml")["relapse"]["sustain1"]
RELAPSE_THRESHOLD_MADRS = float(_SUSTAIN["threshold_madrs"])
RELAPSE_CONSECUTIVE = int(_SUSTAIN["consecutive"])
RELAPSE_DEFINITION = (
    f"{_SUSTAIN['definition']}; assessments assumed every {RELAPSE_VISIT_DAYS:g} days after the last observation, "
    "relapse dated at the first of the two"
)
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class Grid:
    """Forecast times in model time (h after the first dose): band times and relapse assessment times, merged."""

    band_h: FloatArray
    visit_h: FloatArray
    all_h: FloatArray
    band_index: IntArray
    visit_index: IntArray

    @classmethod
    def of(cls, now_h: float, horizon_days: float, step_days: float = 1.0) -> Grid:
        """Band every ``step_days`` from ``now_h`` to the horizon; assessments every ``RELAPSE_VISIT_DAYS``."""
        band = now_h + 24.0 * np.append(np.arange(0.0, horizon_days, step_days), horizon_days)
        visits = now_h + 24.0 * np.arange(RELAPSE_VISIT_DAYS, horizon_days + 1e-9, RELAPSE_VISIT_DAYS)
        return cls.merged(band, visits)

    @classmethod
    def merged(cls, band: FloatArray, visits: FloatArray) -> Grid:
        """The grid of these band and assessment times."""
        merged = np.unique(np.concatenate([band, visits]))
        return cls(band, visits, merged, np.searchsorted(merged, band), np.searchsorted(merged, visits))

    def at_horizon(self, shift_h: float = 0.0) -> Grid:
        """The same assessments and only the last band time, shifted by ``shift_h``."""
        return Grid.merged(self.band_h[-1:] + shift_h, self.visit_h + shift_h)


def observed(latent: FloatArray, tables: FloatArray, scale: str, z: FloatArray) -> FloatArray:
    """Observed integer scores on ``scale`` for latent MADRS ``(m, n)``, per-draw scale tables and normals ``z``."""
    row = tables[:, scale_code(scale)]
    intercept, slope, low, high, sd = (row[:, k : k + 1] for k in range(5))
    return np.asarray(np.clip(np.floor(intercept + slope * latent + sd * z + 0.5), low, high))


def band_quantiles(scores: FloatArray, jitter: FloatArray) -> FloatArray:
    """Rows: the 5/25/50/75/95th percentiles over draws at each time of the scores' continuous relaxation
    (score + ``jitter``, uniform on (-1/2, 1/2)): a 50% band then holds a future rating half of the time, a rating on
    the band's edge counting by the fraction of its unit interval inside (randomised PIT; integer quantiles would
    over-cover)."""
    return np.asarray(np.quantile(scores + jitter, QUANTILES, axis=0))


def relapse_visit(madrs: FloatArray) -> FloatArray:
    """Per draw, the index of the assessment at which relapse starts (``inf`` if none), from observed MADRS at the
    assessments ``(m, n_visits)``."""
    high = madrs >= RELAPSE_THRESHOLD_MADRS
    n = high.shape[1] - RELAPSE_CONSECUTIVE + 1
    if n <= 0:
        return np.full(high.shape[0], np.inf)
    confirmed = high[:, :n].copy()
    for k in range(1, RELAPSE_CONSECUTIVE):
        confirmed &= high[:, k : k + n]
    first = np.argmax(confirmed, axis=1).astype(np.float64)
    return np.where(confirmed.any(axis=1), first, np.inf)


def relapse_cdf(first_visit: FloatArray, n_visits: int) -> FloatArray:
    """P(relapse dated at or before each assessment), non-decreasing."""
    counts = np.bincount(first_visit[np.isfinite(first_visit)].astype(np.int64), minlength=n_visits)[:n_visits]
    return np.asarray(np.cumsum(counts) / first_visit.size, dtype=np.float64)


@dataclass(frozen=True)
class Simulated:
    """One schedule's forecast over the grid: band scores on the requested scale and relapse assessment index."""

    band_scores: FloatArray  # (m, n_band)
    first_relapse_visit: FloatArray  # (m,)


def simulate_schedule(
    inputs: DrawInputs, session_h: FloatArray, grid: Grid, scale: str, z_band: FloatArray, z_visit: FloatArray
) -> Simulated:
    """Latent courses of all draws on ``grid``, observed on ``scale`` (band) and MADRS (relapse assessments).
    ``z_band``/``z_visit`` are the draws' rating errors (shared across schedules: common random numbers)."""
    latent = latent_many(inputs, session_h, grid.all_h)
    band = observed(latent[:, grid.band_index], inputs.tables, scale, z_band)
    visits = observed(latent[:, grid.visit_index], inputs.tables, "madrs", z_visit)
    return Simulated(band, relapse_visit(visits))
