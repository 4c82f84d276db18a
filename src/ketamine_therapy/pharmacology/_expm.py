"""Batched matrix exponential: scaling and squaring with a [13/13] Padé approximant.

Higham (2005), "The scaling and squaring method for the matrix exponential revisited", SIAM J
Matrix Anal Appl 26:1179 (Table 2.3 coefficients, theta_13 = 5.37). Compiled, one small matrix (one
subject) at a time: no Python or LAPACK call per matrix and no temporaries the size of the stack. Serial on
purpose: a second parallel region per chunk cost more than it saved on the shared 2-CPU machine.
"""

from __future__ import annotations

import numba
import numpy as np

from ._typing import FloatArray

_B13 = np.array((
    64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
    10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0,
))  # fmt: skip
_THETA = np.array((1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1, 2.097847961257068))
"""theta_m of the [m/m] Padé approximants m = 3, 5, 7, 9 (Higham 2005 Table 2.3)."""
_B_LOW = np.array((  # Padé coefficients b_0..b_m of m = 3, 5, 7, 9 (Higham 2005 Table 10.4), zero-padded
    (120.0, 60.0, 12.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0, 0.0, 0.0, 0.0, 0.0),
    (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0, 0.0, 0.0),
    (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0, 110880.0, 3960.0, 90.0, 1.0),
))  # fmt: skip
_THETA_13 = 5.371920351148152


@numba.njit(cache=True, error_model="numpy")
def _solve_in_place(lhs: FloatArray, rhs: FloatArray) -> None:  # pragma: no cover - compiled
    """rhs <- lhs^-1 rhs by Gaussian elimination with partial pivoting (lhs is overwritten)."""
    n = lhs.shape[0]
    for k in range(n):
        pivot = k
        for i in range(k + 1, n):
            if abs(lhs[i, k]) > abs(lhs[pivot, k]):
                pivot = i
        if pivot != k:
            for j in range(n):
                lhs[k, j], lhs[pivot, j] = lhs[pivot, j], lhs[k, j]
                rhs[k, j], rhs[pivot, j] = rhs[pivot, j], rhs[k, j]
        for i in range(k + 1, n):
            factor = lhs[i, k] / lhs[k, k]
            for j in range(k + 1, n):
                lhs[i, j] -= factor * lhs[k, j]
            for j in range(n):
                rhs[i, j] -= factor * rhs[k, j]
    for k in range(n - 1, -1, -1):
        for j in range(n):
            total = rhs[k, j]
            for i in range(k + 1, n):
                total -= lhs[k, i] * rhs[i, j]
            rhs[k, j] = total / lhs[k, k]


@numba.njit(cache=True, error_model="numpy")
def _matmul(a: FloatArray, b: FloatArray, out: FloatArray) -> None:  # pragma: no cover - compiled
    """out <- a @ b (out must not be a or b)."""
    n = a.shape[0]
    for i in range(n):
        for j in range(n):
            total = 0.0
            for k in range(n):
                total += a[i, k] * b[k, j]
            out[i, j] = total


@numba.njit(cache=True, error_model="numpy")
def _expm_one(a: FloatArray, out: FloatArray, work: FloatArray) -> None:  # pragma: no cover - compiled
    """out <- exp(a): the lowest Padé degree a's 1-norm allows, else scaled [13/13] and squaring.

    ``work``: scratch of shape ``(6, n, n)``.
    """
    n = a.shape[0]
    norm = 0.0
    for j in range(n):
        column = 0.0
        for i in range(n):
            column += abs(a[i, j])
        norm = max(norm, column)
    degree = 0
    while degree < _THETA.size and not norm <= _THETA[degree]:
        degree += 1
    scaled, a2, u_sum, v, power, tmp = work[0], work[1], work[2], work[3], work[4], work[5]
    squarings = 0
    if degree == _THETA.size and np.isfinite(norm) and norm > _THETA_13:
        squarings = int(np.ceil(np.log2(norm / _THETA_13)))
    factor = 1.0 / 2.0**squarings
    for i in range(n):
        for j in range(n):
            scaled[i, j] = a[i, j] * factor
    _matmul(scaled, scaled, a2)
    if degree < _THETA.size:
        b = _B_LOW[degree]
        for i in range(n):
            for j in range(n):
                identity = 1.0 if i == j else 0.0
                power[i, j] = identity
                u_sum[i, j] = b[1] * identity
                v[i, j] = b[0] * identity
        for k in range(1, degree + 2):
            _matmul(power, a2, tmp)
            for i in range(n):
                for j in range(n):
                    power[i, j] = tmp[i, j]
                    u_sum[i, j] += b[2 * k + 1] * tmp[i, j]
                    v[i, j] += b[2 * k] * tmp[i, j]
    else:
        b = _B13
        a4, a6 = power, tmp
        _matmul(a2, a2, a4)
        _matmul(a4, a2, a6)
        for i in range(n):
            for j in range(n):
                u_sum[i, j] = b[13] * a6[i, j] + b[11] * a4[i, j] + b[9] * a2[i, j]
                v[i, j] = b[12] * a6[i, j] + b[10] * a4[i, j] + b[8] * a2[i, j]
        _matmul(a6, u_sum, out)
        for i in range(n):
            for j in range(n):
                identity = 1.0 if i == j else 0.0
                u_sum[i, j] = out[i, j] + b[7] * a6[i, j] + b[5] * a4[i, j] + b[3] * a2[i, j] + b[1] * identity
        _matmul(a6, v, out)
        for i in range(n):
            for j in range(n):
                identity = 1.0 if i == j else 0.0
                v[i, j] = out[i, j] + b[6] * a6[i, j] + b[4] * a4[i, j] + b[2] * a2[i, j] + b[0] * identity
    _matmul(scaled, u_sum, tmp)  # u = a @ u_sum
    for i in range(n):
        for j in range(n):
            out[i, j] = v[i, j] + tmp[i, j]
            v[i, j] -= tmp[i, j]
    _solve_in_place(v, out)
    for _ in range(squarings):
        _matmul(out, out, tmp)
        for i in range(n):
            for j in range(n):
                out[i, j] = tmp[i, j]


@numba.njit(cache=True, error_model="numpy")
def _expm_stack(flat: FloatArray, out: FloatArray) -> None:  # pragma: no cover - compiled
    work = np.empty((6, flat.shape[1], flat.shape[2]))
    for s in range(flat.shape[0]):
        _expm_one(flat[s], out[s], work)


def expm_batched(matrices: FloatArray) -> FloatArray:
    """exp(M) for each matrix of a stack shaped ``(..., n, n)``.

    Each matrix gets the Padé degree (and scaling) its own 1-norm calls for, so a matrix's result
    does not depend on which other matrices share the batch (chunking never changes results).
    Non-finite matrices give non-finite results.
    """
    a = np.asarray(matrices, dtype=np.float64)
    flat = np.ascontiguousarray(a.reshape(-1, a.shape[-2], a.shape[-1]))
    out = np.empty_like(flat)
    _expm_stack(flat, out)
    return out.reshape(a.shape)
