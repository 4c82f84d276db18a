"""Compiled propagation kernel: exact step-to-step transition of linear systems.

Subjects are processed in blocks of ``BLOCK`` so the inner loops vectorise over subjects; blocks
run in parallel. Only the structurally non-zero entries of each transition matrix are stored.
"""

from __future__ import annotations

import numba
import numpy as np

BLOCK = 8


@numba.njit(parallel=True, cache=True, fastmath={"contract", "reassoc", "nsz", "arcp"})
def propagate(  # type: ignore[no-untyped-def]
    transitions,  # (n_subjects, n_deltas, nnz) float64: exp(A dt) entries at (rows, cols)
    infusion_terms,  # (n_subjects, n_patterns, n_cmt): integral of exp(A s) r ds over a step
    bolus_terms,  # (n_subjects, n_boluses, n_cmt): state jump at a breakpoint
    rows,  # (nnz,) int64
    cols,  # (nnz,) int64
    node_bolus,  # (n_nodes,) int64, -1 = none
    node_out,  # (n_nodes,) int64, -1 = no output at this breakpoint
    step_delta,  # (n_nodes - 1,) int64
    step_pattern,  # (n_nodes - 1,) int64, -1 = no infusion running
    obs_cmt,  # (n_analytes,) int64
    obs_scale,  # (n_analytes, n_subjects): amount -> concentration factor
    out,  # (n_analytes, n_subjects, n_times) float64, written
    finite,  # (n_subjects,) bool, written
):
    n_subjects = transitions.shape[0]
    n_deltas = transitions.shape[1]
    nnz = rows.shape[0]
    n_patterns = infusion_terms.shape[1]
    n_cmt = infusion_terms.shape[2]
    n_boluses = bolus_terms.shape[1]
    n_nodes = node_bolus.shape[0]
    n_analytes = obs_cmt.shape[0]
    n_blocks = (n_subjects + BLOCK - 1) // BLOCK
    for blk in numba.prange(n_blocks):
        s0 = blk * BLOCK
        m = min(BLOCK, n_subjects - s0)
        eb = np.zeros((n_deltas, nnz, BLOCK))
        wb = np.zeros((n_patterns, n_cmt, BLOCK))
        bb = np.zeros((n_boluses, n_cmt, BLOCK))
        sc = np.zeros((n_analytes, BLOCK))
        for s in range(m):
            for d in range(n_deltas):
                for e in range(nnz):
                    eb[d, e, s] = transitions[s0 + s, d, e]
            for p in range(n_patterns):
                for i in range(n_cmt):
                    wb[p, i, s] = infusion_terms[s0 + s, p, i]
            for q in range(n_boluses):
                for i in range(n_cmt):
                    bb[q, i, s] = bolus_terms[s0 + s, q, i]
            for a in range(n_analytes):
                sc[a, s] = obs_scale[a, s0 + s]
        x = np.zeros((n_cmt, BLOCK))
        xn = np.zeros((n_cmt, BLOCK))
        for k in range(n_nodes):
            q = node_bolus[k]
            if q >= 0:
                for i in range(n_cmt):
                    for s in range(BLOCK):
                        x[i, s] += bb[q, i, s]
            o = node_out[k]
            if o >= 0:
                for a in range(n_analytes):
                    c = obs_cmt[a]
                    for s in range(m):
                        out[a, s0 + s, o] = x[c, s] * sc[a, s]
            if k < n_nodes - 1:
                d = step_delta[k]
                p = step_pattern[k]
                if p >= 0:
                    for i in range(n_cmt):
                        for s in range(BLOCK):
                            xn[i, s] = wb[p, i, s]
                else:
                    for i in range(n_cmt):
                        for s in range(BLOCK):
                            xn[i, s] = 0.0
                for e in range(nnz):
                    r = rows[e]
                    c = cols[e]
                    for s in range(BLOCK):
                        xn[r, s] += eb[d, e, s] * x[c, s]
                x, xn = xn, x
        for s in range(m):
            ok = True
            for i in range(n_cmt):
                if not np.isfinite(x[i, s]):
                    ok = False
            finite[s0 + s] = ok
