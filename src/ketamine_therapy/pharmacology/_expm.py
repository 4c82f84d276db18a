"""Batched matrix exponential: scaling and squaring with a [13/13] Padé approximant.

Higham (2005), "The scaling and squaring method for the matrix exponential revisited", SIAM J
Matrix Anal Appl 26:1179 (Table 2.3 coefficients, theta_13 = 5.37). Vectorised over a stack of
small matrices, so there is one numpy call per stage instead of one Python call per matrix.
"""

from __future__ import annotations

import numpy as np

from ._typing import FloatArray

_B13 = (
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
    10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0,
)  # fmt: skip
_LOW_DEGREE = (  # (theta_m, Padé coefficients b_0..b_m), Higham 2005 Tables 2.3 and 10.4
    (1.495585217958292e-2, (120.0, 60.0, 12.0, 1.0)),
    (2.539398330063230e-1, (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0)),
    (9.504178996162932e-1, (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0)),
    (2.097847961257068, (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0,
                         110880.0, 3960.0, 90.0, 1.0)),
)  # fmt: skip
_THETA_13 = 5.371920351148152


def _low_degree(a: FloatArray, b: tuple[float, ...]) -> FloatArray:
    """[m/m] Padé approximant for m in 3, 5, 7, 9 (no scaling needed below theta_m)."""
    eye = np.broadcast_to(np.eye(a.shape[-1]), a.shape)
    powers = [eye, a @ a]
    while len(powers) < (len(b) + 1) // 2:
        powers.append(powers[-1] @ powers[1])
    u = a @ sum(b[2 * k + 1] * powers[k] for k in range(len(powers)))
    v = sum(b[2 * k] * powers[k] for k in range(len(powers)))
    return np.asarray(np.linalg.solve(v - u, v + u))


def expm_batched(matrices: FloatArray) -> FloatArray:
    """exp(M) for each matrix of a stack shaped ``(..., n, n)``.

    Each matrix gets the Padé degree (and scaling) its own 1-norm calls for, so a matrix's result
    does not depend on which other matrices share the batch (chunking never changes results).
    """
    a = np.asarray(matrices, dtype=np.float64)
    shape = a.shape
    flat = a.reshape(-1, shape[-2], shape[-1])
    norm = np.abs(flat).sum(axis=-2).max(axis=-1)
    degree = np.searchsorted([theta for theta, _ in _LOW_DEGREE], norm)  # 4 = scaled [13/13]
    if degree.size and np.all(degree == degree[0]):  # the usual case: one degree for all, no copies
        k = int(degree[0])
        single = _low_degree(flat, _LOW_DEGREE[k][1]) if k < len(_LOW_DEGREE) else _scaled_pade13(flat, norm)
        return single.reshape(shape)
    result = np.empty_like(flat)
    for k, (_, coefficients) in enumerate(_LOW_DEGREE):
        chosen = degree == k
        if chosen.any():
            result[chosen] = _low_degree(flat[chosen], coefficients)
    high = degree == len(_LOW_DEGREE)
    if high.any():
        result[high] = _scaled_pade13(flat[high], norm[high])
    return result.reshape(shape)


def _scaled_pade13(a: FloatArray, norm: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        squarings = np.maximum(0, np.ceil(np.log2(norm / _THETA_13))).astype(np.int64)
    squarings[~np.isfinite(norm)] = 0
    a = a / np.ldexp(1.0, squarings)[:, None, None]
    eye = np.broadcast_to(np.eye(a.shape[-1]), a.shape)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    b = _B13
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    result = np.linalg.solve(v - u, v + u)
    for k in range(int(squarings.max(initial=0))):
        more = squarings > k
        result[more] = result[more] @ result[more]
    return np.asarray(result)
