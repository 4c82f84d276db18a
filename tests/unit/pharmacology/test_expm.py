"""The batched matrix exponential against scipy, and independent of batch composition."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from ketamine_therapy.pharmacology._expm import expm_batched


@pytest.mark.parametrize("norm", [1e-4, 0.01, 0.2, 0.9, 2.0, 5.0, 40.0, 500.0])
def test_matches_scipy_at_every_degree(norm: float) -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(50, 7, 7))
    a *= norm / np.abs(a).sum(axis=-2).max(axis=-1)[:, None, None]
    a[:, np.arange(7), np.arange(7)] -= norm / 3  # compartmental matrices have a negative diagonal
    expected = expm(a)
    scale = np.abs(expected).max(axis=(1, 2), keepdims=True)
    # exp of a large-norm matrix is ill-conditioned (entries span 1e-44..1e16 at norm 500): 1e-12
    assert np.max(np.abs(expm_batched(a) - expected) / scale) < 1e-12


def test_result_does_not_depend_on_the_batch() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(size=(64, 5, 5)) * rng.uniform(0.001, 20, size=(64, 1, 1))
    whole = expm_batched(a)
    parts = np.concatenate([expm_batched(a[i : i + 7]) for i in range(0, 64, 7)])
    np.testing.assert_array_equal(whole, parts)


def test_non_finite_matrix_gives_non_finite_result_and_leaves_the_others() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=(3, 4, 4))
    a[1, 2, 3] = np.nan
    a[2, 0, 0] = np.inf
    result = expm_batched(a)
    assert not np.isfinite(result[1]).all()
    assert not np.isfinite(result[2]).all()
    np.testing.assert_allclose(result[0], expm(a[0]), rtol=1e-13, atol=1e-15)
