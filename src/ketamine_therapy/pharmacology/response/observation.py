"""Rating model: an observed score is a bounded integer, round(latent on the scale + e), e ~ N(0, sigma).

MADRS: latent MADRS itself, 0-60, sigma = ``madrs_sigma`` (Williams & Kobak 2008 test-retest ICC with
the Carmody 2006 SD; ``data/scale_links.yaml``). QIDS-SR16: the Carmody 2006 linear link of the latent
MADRS, 0-27, sigma = link slope x MADRS sigma (the rating error carried through the link; QIDS-SR16's own
retest error was not found). Visit noise is a counter-based normal of (patient key, time, scale): the
same patient at the same time gets the same error whatever the chunking or the parameters (common
random numbers), and different visits get independent errors.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._data import load
from .._typing import FloatArray
from ..exceptions import InvalidInputError

SCALES = ("madrs", "qids-sr16")
SCALE_CODE = {name: k for k, name in enumerate(SCALES)}
_MASK_53 = 1.0 / 9007199254740992.0  # 2^-53


def scale_table(madrs_sigma: float) -> FloatArray:
    """Per scale (rows in ``SCALES`` order): intercept, slope (from latent MADRS), low, high, sigma."""
    link = load("scale_links.yaml")["qids-sr16"]
    slope = float(link["qids_sd"]["value"]) / float(link["madrs_sd"]["value"])
    intercept = float(link["qids_mean"]["value"]) - slope * float(link["madrs_mean"]["value"])
    low, high = (float(x) for x in link["range"])
    return np.array([[0.0, 1.0, 0.0, 60.0, madrs_sigma], [intercept, slope, low, high, slope * madrs_sigma]])


def scale_code(scale: str) -> int:
    """The row of ``scale`` in :func:`scale_table`."""
    if scale not in SCALE_CODE:
        raise InvalidInputError("scale", f"no rating model for {scale!r}", ", ".join(SCALES))
    return SCALE_CODE[scale]


@numba.njit(cache=True)
def _mix(x):  # type: ignore[no-untyped-def]
    """splitmix64 finaliser (uint64 -> uint64)."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@numba.njit(parallel=True, cache=True)
def visit_normals(keys, times_h, code):  # type: ignore[no-untyped-def]
    """Standard-normal visit errors ``(n_patients, n_times)`` for patient ``keys`` (uint64) on scale ``code``."""
    out = np.empty((keys.shape[0], times_h.shape[0]))
    for i in numba.prange(keys.shape[0]):
        for j in range(times_h.shape[0]):
            stamp = np.uint64(np.int64(round(times_h[j] * 3600.0)) + 1_000_003 * np.int64(code))
            h1 = _mix(keys[i] ^ _mix(stamp + np.uint64(0x9E3779B97F4A7C15)))
            h2 = _mix(h1 + np.uint64(0x9E3779B97F4A7C15))
            u1 = (np.float64(h1 >> np.uint64(11)) + 0.5) * _MASK_53
            u2 = np.float64(h2 >> np.uint64(11)) * _MASK_53
            out[i, j] = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return out


def observe(latent_madrs: FloatArray, keys: np.ndarray, times_h: FloatArray, scale: str, sigma: float) -> FloatArray:
    """Observed integer scores on ``scale`` (as floats) of latent MADRS ``(n, n_times)`` at ``times_h``."""
    row = scale_table(sigma)[scale_code(scale)]
    intercept, slope, low, high, sd = row
    z = visit_normals(np.asarray(keys, dtype=np.uint64), np.asarray(times_h, dtype=np.float64), scale_code(scale))
    return np.asarray(np.clip(np.floor(intercept + slope * latent_madrs + sd * z + 0.5), low, high))


@numba.njit(cache=True)
def _log_ndtr(x):  # type: ignore[no-untyped-def]
    """log Phi(x), accurate in the lower tail (erfc keeps full relative precision down to x = -37)."""
    if x > -37.0:
        return math.log(0.5 * math.erfc(-x / math.sqrt(2.0)))
    # asymptotic series of Mills' ratio beyond (relative error < 1e-8 there)
    x2 = x * x
    return -0.5 * x2 - math.log(-x) - 0.5 * math.log(2.0 * math.pi) + math.log1p(-1.0 / x2 + 3.0 / (x2 * x2))


@numba.njit(cache=True)
def log_prob_score(y, latent_madrs, row):  # type: ignore[no-untyped-def]
    """log P(observed = y | latent MADRS) on the scale described by ``row`` of :func:`scale_table`."""
    mean = row[0] + row[1] * latent_madrs
    low, high, sd = row[2], row[3], row[4]
    if y <= low:
        return _log_ndtr((low + 0.5 - mean) / sd)
    if y >= high:
        return _log_ndtr((mean - high + 0.5) / sd)
    a = (y - 0.5 - mean) / sd
    b = (y + 0.5 - mean) / sd
    if a > 0.0:  # upper tail: use the mirror image for accuracy
        a, b = -b, -a
    # P = Phi(b) - Phi(a) = Phi(b) (1 - Phi(a)/Phi(b))
    log_b = _log_ndtr(b)
    ratio = math.exp(_log_ndtr(a) - log_b)
    return log_b + math.log(max(1.0 - ratio, 1e-300))
