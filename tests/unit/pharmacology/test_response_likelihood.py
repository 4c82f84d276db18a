"""The per-patient log-density of the response model and its agreement with the simulator."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from ketamine_therapy.pharmacology import InvalidInputError
from ketamine_therapy.pharmacology.response import (
    PatientRecord,
    latent_course,
    load_parameters,
    log_density,
    log_density_many,
)
from ketamine_therapy.pharmacology.response.observation import log_prob_score, observe, scale_table

PARAMS = load_parameters()
SESSIONS = np.array([0.0, 48.0, 96.0])
STIMULUS = np.array([2.0, 2.0, 2.0])  # occupancy x h: about 0.5 mg/kg IV over 40 min


def record(obs_h: list[float], values: list[float], scales: tuple[str, ...] | None = None) -> PatientRecord:
    return PatientRecord(SESSIONS, STIMULUS, 45.0, np.array(obs_h), np.array(values), scales or ("madrs",) * len(obs_h))


@pytest.mark.parametrize("scale", [0, 1])
@pytest.mark.parametrize("latent", [-3.0, 0.4, 12.3, 33.0, 59.8, 70.0])
def test_score_probabilities_sum_to_one(scale: int, latent: float) -> None:
    row = scale_table(PARAMS.madrs_sigma)[scale]
    total = sum(math.exp(log_prob_score(float(y), latent, row)) for y in range(int(row[3]) + 1))
    assert total == pytest.approx(1.0, abs=1e-9)


def test_log_density_matches_a_direct_computation() -> None:
    rec = record([0.0, 24.0, 72.0, 168.0], [33, 15, 9, 20], ("madrs", "madrs", "qids-sr16", "madrs"))
    eta = np.array([0.3, -0.2, 0.5, 0.1, -1.0, 0.0])
    latent = latent_course(eta, rec, PARAMS, rec.obs_h)
    table = scale_table(PARAMS.madrs_sigma)
    expected = float(norm.logpdf(eta).sum())
    for y, mu, code in zip(rec.obs_value, latent, rec.scale_codes, strict=True):
        intercept, slope, _, _, sd = table[code]
        m = intercept + slope * mu
        expected += math.log(norm.cdf((y + 0.5 - m) / sd) - norm.cdf((y - 0.5 - m) / sd))
    assert log_density(eta, rec, PARAMS) == pytest.approx(expected, rel=1e-9)
    batch = log_density_many(np.vstack([eta, eta, np.zeros(6)]), rec, PARAMS)
    assert batch[0] == batch[1] == pytest.approx(expected, rel=1e-9)


def test_simulated_ratings_follow_the_likelihood() -> None:
    """The simulator's rounding and clipping are the likelihood's: empirical frequencies match exp(log p)."""
    latent = np.full((20000, 1), 11.3)
    keys = np.random.default_rng(1).integers(0, 2**63, size=20000, dtype=np.uint64)
    scores = observe(latent, keys, np.array([24.0]), "madrs", PARAMS.madrs_sigma)[:, 0]
    row = scale_table(PARAMS.madrs_sigma)[0]
    for y in (5, 8, 11, 12, 15):
        p = math.exp(log_prob_score(float(y), 11.3, row))
        assert np.mean(scores == y) == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / 20000))


def test_the_data_move_the_density_towards_the_truth() -> None:
    """With rich ratings from a patient with known random effects, the truth beats the prior mean."""
    truth = np.array([0.5, 1.2, -0.8, 0.0, 0.3, 0.0])
    obs_h = np.arange(0.0, 24 * 60, 24.0 * 3)
    rec0 = record(list(obs_h), [0.0] * obs_h.size)
    latent = latent_course(truth, rec0, PARAMS, obs_h)
    keys = np.array([7], dtype=np.uint64)
    values = observe(latent[None, :], keys, obs_h, "madrs", PARAMS.madrs_sigma)[0]
    rec = record(list(obs_h), list(values))
    assert log_density(truth, rec, PARAMS) > log_density(np.zeros(6), rec, PARAMS) + 5.0


def test_no_ratings_gives_the_prior() -> None:
    rec = record([], [])
    eta = np.array([1.0, 0.0, 0.0, 0.0, 0.0, 2.0])
    assert log_density(eta, rec, PARAMS) == pytest.approx(float(norm.logpdf(eta).sum()))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"obs_value": np.array([61.0])}, "obs_value[0]"),
        ({"obs_value": np.array([12.5])}, "obs_value[0]"),
        ({"obs_scale": ("phq-9",)}, "scale"),
        ({"session_h": np.array([48.0, 0.0, 96.0])}, "session_h"),
        ({"stimulus": np.array([1.0])}, "stimulus"),
        ({"baseline_sd": 0.0}, "baseline_sd"),
    ],
)
def test_bad_records_name_their_field(kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {"session_h": SESSIONS, "stimulus": STIMULUS, "age_y": 45.0, "obs_h": np.array([24.0]),
                               "obs_value": np.array([20.0]), "obs_scale": ("madrs",)}  # fmt: skip
    with pytest.raises(InvalidInputError) as info:
        PatientRecord(**{**base, **kwargs})  # type: ignore[arg-type]
    assert info.value.field == field


def test_patient_session_stimulus_is_graded_and_zero_for_placebo_sessions() -> None:
    from ketamine_therapy.pharmacology.population import Covariates
    from ketamine_therapy.pharmacology.response import Arm, patient_session_stimulus

    one = Covariates(np.array([70.0]), np.array([50.0]), np.array([True]), np.array([False]), np.array([False]))
    esk = Arm("esk", "esketamine", (1.0, 4.0, 8.0), doses_mg=(28.0, 84.0, 0.0))
    low, high, none = patient_session_stimulus(esk, one)
    assert 0 < low < high
    assert none == 0.0
    iv = patient_session_stimulus(Arm("iv", "racemic-ketamine", (1.0,), dose_mg_per_kg=0.5, duration_min=40), one)
    assert iv.shape == (1,)
    assert iv[0] > 0
